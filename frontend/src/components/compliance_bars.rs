//! Cylinders by worst compliance status, one stacked horizontal bar per district or enterprise:
//! a segment per status in a fixed order and colour, each a link to its list. Bars are as long
//! as their group's count relative to the largest group, so groups compare at a glance.

use crate::components::inventory_table::Figure;
use crate::i18n::{use_lang, Key};
use crate::labels::{self, COMPLIANCE_ORDER};
use shared::stats::ComplianceGroup;
use std::rc::Rc;
use yew::prelude::*;

/// One group as drawn: its bar, what it is called, and where its name leads.
#[derive(Debug, Clone, PartialEq)]
pub struct BarGroup {
    pub group: ComplianceGroup,
    pub name: String,
    /// The drill-down page of the group, when there is one.
    pub href: Option<Html>,
}

/// Bar properties.
#[derive(Properties, PartialEq)]
pub struct ComplianceBarsProps {
    pub groups: Rc<Vec<BarGroup>>,
    pub open: Option<String>,
    pub on_open: Callback<Figure>,
}

/// The statuses of a group in bar order, unknown ones last, with their counts.
pub fn segments(group: &ComplianceGroup) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = COMPLIANCE_ORDER
        .iter()
        .filter_map(|s| Some(((*s).to_owned(), *group.counts.get(*s)?)))
        .collect();
    for (status, n) in &group.counts {
        if !COMPLIANCE_ORDER.contains(&status.as_str()) {
            out.push((status.clone(), *n));
        }
    }
    out.retain(|(_, n)| *n > 0);
    out
}

/// The legend and the bars.
#[component]
pub fn ComplianceBars(props: &ComplianceBarsProps) -> Html {
    let lang = use_lang().lang;
    if props.groups.is_empty() {
        return html! { <p class="notice">{ lang.t(Key::NoComplianceData) }</p> };
    }
    let total = |g: &ComplianceGroup| g.counts.values().sum::<i64>();
    let max = props
        .groups
        .iter()
        .map(|g| total(&g.group))
        .max()
        .unwrap_or(0)
        .max(1);
    let legend = COMPLIANCE_ORDER.iter().map(|s| {
        html! {
            <li class={classes!("legend", format!("cmp-{s}"))}>
                <span class="swatch"></span>{ labels::compliance_short(lang, s) }
            </li>
        }
    });
    let bars = props.groups.iter().map(|bar| {
        let g = &bar.group;
        let sum = total(g);
        // Whole percents: a CSS width without float noise.
        let width = (sum.clamp(0, max) * 100) / max;
        let parts = segments(g).into_iter().map(|(status, n)| {
            let label = labels::compliance_short(lang, &status);
            let title = format!("{} · {label} · {n}", bar.name);
            match g.links.get(&status) {
                Some(path) => {
                    let figure = Figure { path: path.clone(), title: title.clone() };
                    let open = props.open.as_deref() == Some(path.as_str());
                    let onclick = {
                        let on_open = props.on_open.clone();
                        Callback::from(move |e: MouseEvent| {
                            e.prevent_default();
                            on_open.emit(figure.clone());
                        })
                    };
                    html! {
                        <a href="#cylinder-list" class={classes!("seg", format!("cmp-{status}"), open.then_some("open"))}
                            style={format!("flex-grow: {n}")} data-status={status.clone()}
                            data-count={n.to_string()} data-path={path.clone()} {title} {onclick}>
                            <span>{ n }</span>
                        </a>
                    }
                }
                None => html! {
                    <span class={classes!("seg", format!("cmp-{status}"))} style={format!("flex-grow: {n}")}
                        data-status={status.clone()} data-count={n.to_string()} {title}>
                        <span>{ n }</span>
                    </span>
                },
            }
        });
        html! {
            <li class="cmp-group" key={g.key.clone()} data-key={g.key.clone()} data-total={sum.to_string()}>
                <span class="cmp-name">
                    { bar.href.clone().unwrap_or_else(|| html! { { bar.name.clone() } }) }
                </span>
                <span class="cmp-track">
                    <span class="cmp-bar" style={format!("width: {width}%")}>{ for parts }</span>
                </span>
                <span class="cmp-total">{ sum }</span>
            </li>
        }
    });
    html! {
        <>
            <ul class="cmp-legend">{ for legend }</ul>
            <ul id="compliance-bars" class="cmp-bars">{ for bars }</ul>
        </>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_follow_the_fixed_order_and_unknown_statuses_come_last() {
        let group = ComplianceGroup {
            key: "ENT1".into(),
            counts: [("scrapped", 1), ("ok", 3), ("odd", 2), ("due_soon", 0)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect(),
            links: Default::default(),
        };
        let names: Vec<String> = segments(&group).into_iter().map(|(s, _)| s).collect();
        assert_eq!(names, ["ok", "scrapped", "odd"]);
    }
}
