//! A KPI tile: a large number and its label, readable across a command hall.

use yew::prelude::*;

/// Tile properties.
#[derive(Properties, PartialEq)]
pub struct KpiProps {
    pub label: AttrValue,
    pub value: AttrValue,
    #[prop_or_default]
    pub id: Option<AttrValue>,
}

/// One tile.
#[component]
pub fn Kpi(props: &KpiProps) -> Html {
    html! {
        <div class="kpi" id={props.id.clone()}>
            <div class="kpi-value">{ props.value.clone() }</div>
            <div class="kpi-label">{ props.label.clone() }</div>
        </div>
    }
}
