//! A KPI tile: a large number and its label, readable across a command hall.

use yew::prelude::*;

/// Tile properties.
#[derive(Properties, PartialEq)]
pub struct KpiProps {
    pub label: AttrValue,
    pub value: AttrValue,
    #[prop_or_default]
    pub id: Option<AttrValue>,
    /// A smaller line under the label (what the number hides: a maximum, a mean).
    #[prop_or_default]
    pub detail: Option<AttrValue>,
    /// Extra classes: `ok`, `bad` colour the number.
    #[prop_or_default]
    pub class: Classes,
}

/// One tile.
#[component]
pub fn Kpi(props: &KpiProps) -> Html {
    html! {
        <div class={classes!("kpi", props.class.clone())} id={props.id.clone()}>
            <div class="kpi-value">{ props.value.clone() }</div>
            <div class="kpi-label">{ props.label.clone() }</div>
            if let Some(detail) = &props.detail {
                <div class="kpi-detail">{ detail.clone() }</div>
            }
        </div>
    }
}
