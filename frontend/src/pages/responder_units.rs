//! 处置单位 (`/incidents/units`, reached from the duty console): the registered responder
//! units (fire 119, a gas company's crew, the district bureau, police…) and, for those who
//! register them (administrators, city regulators), the form that registers one. The incident
//! page's task form offers the units listed here.

use crate::app::Route;
use crate::errors;
use crate::i18n::{use_lang, Key, Lang};
use crate::incident_text::{self as text, RESPONDER_KINDS, T};
use crate::pages::incidents::{use_role, value_of, HANDLERS};
use crate::services::api::ApiError;
use crate::services::incidents;
use shared::auth::Role;
use shared::incident::{NewResponderUnit, ResponderKind, ResponderUnit};
use std::rc::Rc;
use web_sys::HtmlInputElement;
use yew::prelude::*;
use yew_router::prelude::*;

/// Who registers units (the server's list: city-wide records, not a district regulator's).
pub const REGISTRARS: [Role; 2] = [Role::Admin, Role::CityRegulator];

/// The unit from the form's text, or the field that cannot be sent as it is (the server checks
/// the rest and names the field).
pub fn read_unit(
    code: &str,
    name: &str,
    kind: &str,
    phone: &str,
) -> Result<NewResponderUnit, &'static str> {
    Ok(NewResponderUnit {
        code: code.trim().to_owned(),
        name: name.trim().to_owned(),
        kind: ResponderKind::from_name(kind).ok_or("kind")?,
        phone: phone.trim().to_owned(),
    })
}

/// The page.
#[component]
pub fn ResponderUnitsPage() -> Html {
    let lang = use_lang().lang;
    let role = use_role();
    let units = use_state(|| None::<Result<Rc<Vec<ResponderUnit>>, ApiError>>);
    let asked = use_state(|| 0_u32);
    {
        let units = units.clone();
        use_effect_with(*asked, move |_| {
            wasm_bindgen_futures::spawn_local(async move {
                units.set(Some(incidents::units().await.map(Rc::new)));
            });
        });
    }
    let on_registered = {
        let asked = asked.clone();
        Callback::from(move |()| asked.set(asked.wrapping_add(1)))
    };
    let may_read = role.is_some_and(|r| HANDLERS.contains(&r));
    let may_register = role.is_some_and(|r| REGISTRARS.contains(&r));
    html! {
        <section class="incidents-page units-page" id="units-page">
            <div class="panel">
                <h2>
                    { T::ResponderUnits.t(lang) }
                    <Link<Route> to={Route::Incidents} classes="units-back">{ T::Incidents.t(lang) }</Link<Route>>
                </h2>
                { match &*units {
                    None if may_read => html! { <p class="notice">{ lang.t(Key::Loading) }</p> },
                    None => html! {},
                    Some(Ok(list)) => unit_table(lang, list),
                    Some(Err(e)) => html! {
                        <p class="alert-error" role="alert" data-code={e.name()}>{ errors::failed(lang, Key::LoadFailed, e) }</p>
                    },
                } }
            </div>
            <div class="panel">
                if may_register {
                    <UnitForm {on_registered} />
                } else {
                    <p class="notice" id="unit-may-not">{ T::MayNotRegister.t(lang) }</p>
                }
            </div>
        </section>
    }
}

fn unit_table(lang: Lang, list: &[ResponderUnit]) -> Html {
    if list.is_empty() {
        return html! { <p class="notice" id="units-empty">{ T::NoUnits.t(lang) }</p> };
    }
    html! {
        <div class="table-scroll">
            <table class="incident-table" id="units">
                <thead><tr>
                    <th>{ T::UnitCode.t(lang) }</th><th>{ T::UnitName.t(lang) }</th>
                    <th>{ T::UnitKind.t(lang) }</th><th>{ T::UnitPhone.t(lang) }</th>
                </tr></thead>
                <tbody>
                    { for list.iter().map(|u| html! {
                        <tr data-code={u.code.clone()} data-kind={u.kind.name()}>
                            <td>{ &u.code }</td>
                            <td>{ &u.name }</td>
                            <td class="unit-kind">{ text::responder_kind(lang, u.kind) }</td>
                            <td>{ &u.phone }</td>
                        </tr>
                    }) }
                </tbody>
            </table>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct UnitFormProps {
    on_registered: Callback<()>,
}

/// The form that registers a unit.
#[component]
fn UnitForm(props: &UnitFormProps) -> Html {
    let lang = use_lang().lang;
    let refs = use_memo((), |_| {
        std::array::from_fn::<NodeRef, 4, _>(|_| NodeRef::default())
    });
    let busy = use_state(|| false);
    let error = use_state(|| None::<ApiError>);
    let done = use_state(|| None::<String>);
    let submit = {
        let (refs, busy, error, done) = (refs.clone(), busy.clone(), error.clone(), done.clone());
        let on_registered = props.on_registered.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            let [code, name, kind, phone] = &*refs;
            let Ok(unit) = read_unit(
                &value_of(code),
                &value_of(name),
                &value_of(kind),
                &value_of(phone),
            ) else {
                return;
            };
            error.set(None);
            done.set(None);
            busy.set(true);
            let (busy, error, done, on_registered, refs) = (
                busy.clone(),
                error.clone(),
                done.clone(),
                on_registered.clone(),
                refs.clone(),
            );
            wasm_bindgen_futures::spawn_local(async move {
                let answer = incidents::create_unit(&unit).await;
                busy.set(false);
                match answer {
                    Ok(u) => {
                        let [code, name, _, phone] = &*refs;
                        for r in [code, name, phone] {
                            if let Some(i) = r.cast::<HtmlInputElement>() {
                                i.set_value("");
                            }
                        }
                        done.set(Some(u.code));
                        on_registered.emit(());
                    }
                    Err(e) => error.set(Some(e)),
                }
            });
        })
    };
    let [code, name, kind, phone] = (*refs).clone();
    html! {
        <form class="incident-form unit-form" id="unit-form" onsubmit={submit}>
            <h2>{ T::RegisterUnit.t(lang) }</h2>
            <label>{ T::UnitCode.t(lang) }
                <input ref={code} id="unit-code" type="text" placeholder="FIRE-JS" />
            </label>
            <label>{ T::UnitName.t(lang) }
                <input ref={name} id="unit-name" type="text" />
            </label>
            <label>{ T::UnitKind.t(lang) }
                <select ref={kind} id="unit-kind">
                    { for RESPONDER_KINDS.iter().enumerate().map(|(n, k)| html! {
                        <option value={k.name()} selected={n == 0}>{ text::responder_kind(lang, *k) }</option>
                    }) }
                </select>
            </label>
            <label>{ T::UnitPhone.t(lang) }
                <input ref={phone} id="unit-phone" type="tel" placeholder="119" />
            </label>
            <button type="submit" class="act" id="unit-submit" disabled={*busy}>{ T::RegisterUnit.t(lang) }</button>
            if let Some(c) = &*done {
                <p class="notice" id="unit-done" data-code={c.clone()}>{ format!("{} {c}", T::UnitRegistered.t(lang)) }</p>
            }
            if let Some(e) = &*error {
                <p class="alert-error" role="alert" id="unit-error" data-code={e.name()}
                    data-field={e.field().map(str::to_owned)}>
                    { errors::failed(lang, Key::ActionFailed, e) }
                </p>
            }
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unit_form_is_read_trimmed_and_an_unknown_kind_is_named() {
        let unit = read_unit(" FIRE-JS ", " 金水区消防救援站 ", "fire", " 119 ").unwrap();
        assert_eq!(
            unit,
            NewResponderUnit {
                code: "FIRE-JS".into(),
                name: "金水区消防救援站".into(),
                kind: ResponderKind::Fire,
                phone: "119".into(),
            }
        );
        assert_eq!(
            read_unit("X", "y", "gas_emergency", "1").unwrap().kind,
            ResponderKind::GasEmergency
        );
        assert_eq!(read_unit("X", "y", "army", "1"), Err("kind"));
    }
}
