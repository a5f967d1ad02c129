//! A cylinder's archive (一瓶一档, seed 004 Appendix A) as a list of labelled fields; the dates
//! behind a bad compliance status are marked.

use crate::format::{date, month, number};
use crate::i18n::{use_lang, Key, Lang};
use crate::labels;
use shared::cylinder::{Compliance, CylinderView};
use std::rc::Rc;
use yew::prelude::*;

/// Archive properties.
#[derive(Properties, PartialEq)]
pub struct ArchiveProps {
    pub view: Rc<CylinderView>,
}

/// How a field is marked: not at all, amber, or red.
#[derive(Clone, Copy, PartialEq)]
enum Mark {
    None,
    Warn,
    Bad,
}

/// The archive's fields.
#[component]
pub fn Archive(props: &ArchiveProps) -> Html {
    let lang = use_lang().lang;
    html! {
        <dl class="archive" id="archive">
            { for rows(lang, &props.view).into_iter().map(|(field, key, value, mark)| {
                let class = match mark {
                    Mark::None => None,
                    Mark::Warn => Some("warn"),
                    Mark::Bad => Some("bad"),
                };
                html! {
                    <div class={classes!("field", class)} data-field={field}>
                        <dt>{ lang.t(key) }</dt>
                        <dd>{ value }</dd>
                    </div>
                }
            }) }
        </dl>
    }
}

/// (wire name, label, shown value, mark) in Appendix A's order.
fn rows(lang: Lang, v: &CylinderView) -> Vec<(&'static str, Key, String, Mark)> {
    let a = &v.archive;
    let has = |c: Compliance| v.compliance_all.contains(&c);
    let mark_if = |bad: bool| if bad { Mark::Bad } else { Mark::None };
    let next_mark = if has(Compliance::InspectionOverdue) {
        Mark::Bad
    } else if has(Compliance::DueSoon) {
        Mark::Warn
    } else {
        Mark::None
    };
    let unregistered = mark_if(has(Compliance::Unregistered));
    let text = |t: Option<&shared::registry::Text>| t.map_or_else(dash, |t| t.to_string());
    let named = |name: Option<&String>, code: &str| match name {
        Some(name) => format!("{name}（{code}）"),
        None => code.to_owned(),
    };
    vec![
        ("code", Key::FieldCode, a.code.to_string(), Mark::None),
        ("tag_id", Key::FieldTag, a.tag_id.to_string(), Mark::None),
        (
            "medium",
            Key::FieldMedium,
            labels::medium(lang, a.medium),
            Mark::None,
        ),
        ("tare_kg", Key::FieldTare, number(a.tare_kg), Mark::None),
        ("volume_l", Key::FieldVolume, number(a.volume_l), Mark::None),
        (
            "working_pressure_mpa",
            Key::FieldWorkingPressure,
            number(a.working_pressure_mpa),
            Mark::None,
        ),
        (
            "test_pressure_mpa",
            Key::FieldTestPressure,
            number(a.test_pressure_mpa),
            Mark::None,
        ),
        (
            "wall_thickness_mm",
            Key::FieldWallThickness,
            number(a.wall_thickness_mm),
            Mark::None,
        ),
        (
            "max_fill_kg",
            Key::FieldMaxFill,
            number(a.max_fill_kg),
            Mark::None,
        ),
        (
            "design_life_years",
            Key::FieldDesignLife,
            format!("{} {}", a.design_life_years, lang.t(Key::Years)),
            Mark::None,
        ),
        (
            "life_ends_on",
            Key::FieldLifeEnds,
            date(v.life_ends_on),
            mark_if(has(Compliance::LifeExpired)),
        ),
        (
            "manufacturer",
            Key::FieldManufacturer,
            a.manufacturer.to_string(),
            Mark::None,
        ),
        (
            "manufactured_on",
            Key::FieldManufactured,
            month(a.manufactured_on),
            Mark::None,
        ),
        (
            "product_standard",
            Key::FieldStandard,
            a.product_standard.to_string(),
            Mark::None,
        ),
        (
            "manufacture_licence_no",
            Key::FieldManufactureLicence,
            a.manufacture_licence_no.to_string(),
            Mark::None,
        ),
        (
            "last_inspected_on",
            Key::FieldLastInspected,
            date(a.last_inspected_on),
            Mark::None,
        ),
        (
            "next_inspection_on",
            Key::FieldNextInspection,
            date(a.next_inspection_on),
            next_mark,
        ),
        (
            "registration_no",
            Key::FieldRegistrationNo,
            text(a.registration_no.as_ref()),
            unregistered,
        ),
        (
            "registered_on",
            Key::FieldRegisteredOn,
            a.registered_on.map_or_else(dash, date),
            unregistered,
        ),
        (
            "registration_authority",
            Key::FieldRegistrationAuthority,
            text(a.registration_authority.as_ref()),
            unregistered,
        ),
        (
            "serial_no",
            Key::FieldSerialNo,
            text(a.serial_no.as_ref()),
            Mark::None,
        ),
        (
            "production_batch",
            Key::FieldProductionBatch,
            text(a.production_batch.as_ref()),
            Mark::None,
        ),
        (
            "owner_enterprise_code",
            Key::FieldOwner,
            named(v.owner_name.as_ref(), a.owner_enterprise_code.as_str()),
            Mark::None,
        ),
        (
            "station_code",
            Key::FieldStation,
            named(v.station_name.as_ref(), a.station_code.as_str()),
            Mark::None,
        ),
        (
            "qr_payload",
            Key::FieldQrPayload,
            v.qr_payload.clone(),
            Mark::None,
        ),
    ]
}

fn dash() -> String {
    "—".to_owned()
}
