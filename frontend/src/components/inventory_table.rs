//! The inventory table of one level (seed 000 §3.7): a row per medium and the total row, every
//! figure a link to the list of cylinders behind it.

use crate::i18n::{use_lang, Key, Lang};
use crate::labels;
use shared::stats::{Inventory, InventoryCounts, Links};
use std::rc::Rc;
use yew::prelude::*;

/// The columns, their wire names and headers.
const COLUMNS: [(&str, Key); 6] = [
    ("shipped", Key::ColShipped),
    ("in_transit", Key::ColInTransit),
    ("delivered", Key::ColDelivered),
    ("returning", Key::ColReturning),
    ("total", Key::ColTotal),
    ("lost", Key::ColLost),
];

/// A figure that was clicked: the API path of its list and what the list is called.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub path: String,
    pub title: String,
}

/// Table properties.
#[derive(Properties, PartialEq)]
pub struct InventoryTableProps {
    pub inventory: Rc<Inventory>,
    /// The figure whose list is open, by its path.
    pub open: Option<String>,
    pub on_open: Callback<Figure>,
}

fn count(c: &InventoryCounts, column: &str) -> i64 {
    match column {
        "shipped" => c.shipped,
        "in_transit" => c.in_transit,
        "delivered" => c.delivered,
        "returning" => c.returning,
        "total" => c.total,
        "lost" => c.lost,
        _ => 0,
    }
}

/// One row's cells: each figure links to its list when the server gave one.
fn cells(
    lang: Lang,
    props: &InventoryTableProps,
    medium: &str,
    counts: &InventoryCounts,
    links: &Links,
) -> Html {
    html! {
        { for COLUMNS.iter().map(|(column, key)| {
            let n = count(counts, column);
            let figure = html! { { n } };
            let content = match links.get(*column) {
                Some(path) => {
                    let figure_of = Figure {
                        path: path.clone(),
                        title: format!("{} · {}", medium_name(lang, medium), lang.t(*key)),
                    };
                    let open = props.open.as_deref() == Some(path.as_str());
                    let onclick = {
                        let on_open = props.on_open.clone();
                        Callback::from(move |e: MouseEvent| {
                            e.prevent_default();
                            on_open.emit(figure_of.clone());
                        })
                    };
                    html! {
                        <a href="#cylinder-list" class={classes!("fig", open.then_some("open"), (n == 0).then_some("zero"))}
                            data-figure={*column} data-medium={medium.to_owned()}
                            data-path={path.clone()} {onclick}>
                            { figure }
                        </a>
                    }
                }
                None => figure,
            };
            html! {
                <td class={classes!("num", (*column == "lost" && n > 0).then_some("bad"))}>{ content }</td>
            }
        }) }
    }
}

fn medium_name(lang: Lang, medium: &str) -> String {
    if medium == "total" {
        lang.t(Key::TotalRow).to_owned()
    } else {
        labels::medium_code(lang, medium)
    }
}

/// The table.
#[component]
pub fn InventoryTable(props: &InventoryTableProps) -> Html {
    let lang = use_lang().lang;
    let inv = &props.inventory;
    html! {
        <div class="table-scroll">
            <table id="inventory" class="inventory">
                <thead>
                    <tr>
                        <th>{ lang.t(Key::FieldMedium) }</th>
                        { for COLUMNS.iter().map(|(column, key)| html! {
                            <th class="num" data-column={*column}>{ lang.t(*key) }</th>
                        }) }
                    </tr>
                </thead>
                <tbody>
                    { for inv.rows.iter().map(|row| html! {
                        <tr key={row.medium.clone()} data-medium={row.medium.clone()}>
                            <th scope="row">{ medium_name(lang, &row.medium) }</th>
                            { cells(lang, props, &row.medium, &row.counts, &row.links) }
                        </tr>
                    }) }
                </tbody>
                <tfoot>
                    <tr data-medium="total">
                        <th scope="row">{ lang.t(Key::TotalRow) }</th>
                        { cells(lang, props, "total", &inv.total, &inv.total_links) }
                    </tr>
                </tfoot>
            </table>
            if inv.rows.is_empty() {
                <p class="notice">{ lang.t(Key::NoInventory) }</p>
            }
        </div>
    }
}
