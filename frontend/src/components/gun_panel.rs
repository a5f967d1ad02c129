//! The guns of a station, each with its newest decision in large type: green 允许 or red 拒绝
//! with the rules that refused.

use crate::format::clock;
use crate::i18n::{use_lang, Key, Lang};
use crate::labels;
use shared::filling::DecisionLine;
use std::rc::Rc;
use yew::prelude::*;

/// Panel properties: the day's newest decisions (any order).
#[derive(Properties, PartialEq)]
pub struct GunPanelProps {
    pub recent: Rc<Vec<DecisionLine>>,
}

/// The newest decision of each gun, guns in natural order (G2 before G10).
pub fn newest_per_gun(recent: &[DecisionLine]) -> Vec<&DecisionLine> {
    let mut guns: Vec<&DecisionLine> = Vec::new();
    for d in recent {
        match guns.iter_mut().find(|g| g.gun_no == d.gun_no) {
            Some(g) if g.decided_at < d.decided_at => *g = d,
            Some(_) => {}
            None => guns.push(d),
        }
    }
    guns.sort_by(|a, b| gun_order(&a.gun_no).cmp(&gun_order(&b.gun_no)));
    guns
}

/// Sorts `G2` before `G10`: the text before the first digits, then their value, then the name.
fn gun_order(gun: &str) -> (&str, u64, &str) {
    let start = gun.find(|c: char| c.is_ascii_digit()).unwrap_or(gun.len());
    let rest = &gun[start..];
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    (&gun[..start], rest[..end].parse().unwrap_or(u64::MAX), gun)
}

/// What the gun was asked to fill: the cylinder's number, else the tag it read.
pub fn subject(lang: Lang, d: &DecisionLine) -> String {
    match (&d.cylinder_code, &d.tag_id) {
        (Some(code), _) => code.to_string(),
        (None, Some(tag)) => format!("{} {tag}", lang.t(Key::Tag)),
        (None, None) => "—".to_owned(),
    }
}

/// The panel.
#[component]
pub fn GunPanel(props: &GunPanelProps) -> Html {
    let lang = use_lang().lang;
    let guns = newest_per_gun(&props.recent);
    if guns.is_empty() {
        return html! {
            <div id="gun-panel" class="guns">
                <p class="notice">{ lang.t(Key::NoDecisions) }</p>
            </div>
        };
    }
    let cards = guns.into_iter().map(|d| {
        let (class, verdict) = if d.allowed {
            ("allowed", Key::Allowed)
        } else {
            ("refused", Key::Refused)
        };
        let rules = d
            .reasons
            .iter()
            .map(|r| r.rule.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        let reasons = d.reasons.iter().map(|r| {
            html! {
                <li data-rule={r.rule.clone()} title={labels::refusal_title(lang, &r.rule, &r.message)}>
                    <b>{ &r.rule }</b>{ " " }{ labels::refusal(lang, &r.rule, &r.message) }
                </li>
            }
        });
        html! {
            <div class={classes!("gun", class)} data-gun={d.gun_no.clone()}
                data-allowed={d.allowed.to_string()} data-rules={rules}>
                <div class="gun-head">
                    <span class="gun-no"><small>{ lang.t(Key::Gun) }</small>{ " " }{ &d.gun_no }</span>
                    <time>{ clock(&d.decided_at) }</time>
                </div>
                <div class="gun-verdict">{ lang.t(verdict) }</div>
                <div class="gun-subject">{ subject(lang, d) }</div>
                if !d.reasons.is_empty() {
                    <ul class="gun-reasons">{ for reasons }</ul>
                }
            </div>
        }
    });
    html! { <div id="gun-panel" class="guns">{ for cards }</div> }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn line(gun: &str, at: &str, allowed: bool) -> DecisionLine {
        serde_json::from_value(json!({
            "id": "00000000-0000-0000-0000-000000000000", "decided_at": at, "gun_no": gun,
            "cylinder_code": null, "tag_id": "NO-SUCH", "allowed": allowed, "reasons": []
        }))
        .unwrap()
    }

    #[test]
    fn each_gun_shows_its_newest_decision_in_natural_order() {
        let recent = vec![
            line("G10", "2026-05-01T10:00:03+08:00", true),
            line("G2", "2026-05-01T10:00:02+08:00", false),
            line("G2", "2026-05-01T10:00:01+08:00", true),
            // Out of order: the newest still wins.
            line("G10", "2026-05-01T10:00:04+08:00", false),
            line("G1", "2026-05-01T09:00:00+08:00", true),
        ];
        let guns: Vec<(&str, bool)> = newest_per_gun(&recent)
            .into_iter()
            .map(|d| (d.gun_no.as_str(), d.allowed))
            .collect();
        assert_eq!(guns, [("G1", true), ("G2", false), ("G10", false)]);
        assert_eq!(subject(Lang::Zh, &recent[0]), "标签 NO-SUCH");
    }
}
