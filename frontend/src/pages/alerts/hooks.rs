//! The duty console's hooks: its alerts kept in step with the live feed and the server, the
//! critical news that flashes and beeps, and the first alert shown.

use super::console::{
    newest_first, resolved_query, Alerts, Console, ConsoleAction, Known, Tick, UnresolvedList,
};
use crate::beep;
use crate::components::alert_filters::AlertFilters;
use crate::services::api::{self, Fetch};
use crate::state::LiveContext;
use gloo_timers::callback::Interval;
use shared::alert::AlertStatus;
use yew::prelude::*;

/// How often the resolved list is asked again while shown, in milliseconds.
const RESOLVED_REFRESH_MS: u32 = 30_000;

/// The unresolved alerts, newest first, rebuilt only when one of them changed, and the list's
/// generation (which changes with each rebuild).
#[hook]
pub(super) fn use_unresolved(live: Option<&LiveContext>) -> (Alerts, u64) {
    let cache = use_mut_ref(UnresolvedList::default);
    let mut cache = cache.borrow_mut();
    if let Some(live) = live {
        cache.update(&live.alerts.borrow());
    }
    cache.current()
}

/// Flashes (and beeps for) critical alerts that arrive, turn critical or are escalated once the
/// live snapshot came; the reducer counts a beep only when the sound is on.
#[hook]
pub(super) fn use_critical_news(
    console: &UseReducerHandle<Console>,
    unresolved: &Alerts,
    generation: u64,
    snapshot_seen: bool,
) {
    let known = use_mut_ref(Known::default);
    {
        let console = console.clone();
        let list = unresolved.clone();
        use_effect_with((generation, snapshot_seen), move |(_, seen)| {
            if !*seen {
                return;
            }
            let arrived = known.borrow_mut().arrivals(&list);
            if !arrived.is_empty() {
                console.dispatch(ConsoleAction::Arrived(arrived));
            }
        });
    }
    use_effect_with(console.beeps, |beeps| {
        if *beeps > 0 {
            beep::beep();
        }
    });
}

/// The resolved alerts, asked while that filter is chosen: when it is chosen or changed, on
/// each tick, and every 30 s.
#[hook]
pub(super) fn use_resolved(console: &UseReducerHandle<Console>, tick: &UseReducerHandle<Tick>) {
    {
        let tick = tick.clone();
        use_effect_with(console.showing_resolved(), move |on| {
            let timer = on.then(|| Interval::new(RESOLVED_REFRESH_MS, move || tick.dispatch(())));
            move || drop(timer)
        });
    }
    let asked = use_mut_ref(|| None::<AlertFilters>);
    let console = console.clone();
    let deps = (console.filters.clone(), tick.0);
    use_effect_with(deps, move |(filters, _)| {
        if filters.status != Some(AlertStatus::Resolved) {
            asked.replace(None);
            return;
        }
        asked.replace(Some(filters.clone()));
        let filters = filters.clone();
        let query = resolved_query(&filters);
        wasm_bindgen_futures::spawn_local(async move {
            let answer = api::alerts(&query).await;
            // The filters changed meanwhile: this answer is for another question.
            if asked.borrow().as_ref() != Some(&filters) {
                return;
            }
            let fetch = match answer {
                Ok(page) => Fetch::Ready(newest_first(page.items)),
                Err(e) => {
                    web_sys::console::warn_1(&format!("resolved alerts: {e}").into());
                    Fetch::from(Err::<Alerts, _>(e))
                }
            };
            console.dispatch(ConsoleAction::Resolved(fetch));
        });
    });
}

/// Nothing opened yet: shows the newest of the feed's rows.
#[hook]
pub(super) fn use_show_first(console: &UseReducerHandle<Console>, shown: &Alerts) {
    let first = shown.first().map(|a| a.id);
    let handle = console.clone();
    use_effect_with((console.selected.is_none(), first), move |(none, first)| {
        if let (true, Some(id)) = (*none, first) {
            handle.dispatch(ConsoleAction::Show(*id));
        }
    });
}
