//! Hooks the pages share: the district base map (fetched once per page load), a counter
//! that changes whenever the window is resized, for canvases to redraw, and one answer of the
//! server kept in step with what is asked.

use crate::geo::{parse_districts, District};
use crate::services::api;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use yew::prelude::*;

/// The district boundaries: loading, loaded, or why not.
#[derive(Clone, PartialEq)]
pub enum Basemap {
    Loading,
    Ready(Rc<Vec<District>>),
    Failed(api::ApiError),
}

thread_local! {
    // Going from the wall to a cylinder and back should not fetch and parse the map again.
    static BASEMAP: RefCell<Option<Rc<Vec<District>>>> = const { RefCell::new(None) };
}

/// The configured district boundaries.
#[hook]
pub fn use_basemap() -> Basemap {
    let cached = BASEMAP.with(|b| b.borrow().clone());
    let basemap = use_state(move || cached.map_or(Basemap::Loading, Basemap::Ready));
    {
        let basemap = basemap.clone();
        use_effect_with((), move |_| {
            if *basemap == Basemap::Loading {
                wasm_bindgen_futures::spawn_local(async move {
                    basemap.set(match api::districts().await {
                        Ok(json) => {
                            let districts = Rc::new(parse_districts(&json));
                            BASEMAP.with(|b| *b.borrow_mut() = Some(districts.clone()));
                            Basemap::Ready(districts)
                        }
                        Err(e) => Basemap::Failed(e),
                    });
                });
            }
        });
    }
    (*basemap).clone()
}

/// A number that changes on every window resize.
#[hook]
pub fn use_resize_count() -> u32 {
    let resized = use_state(|| 0_u32);
    {
        let resized = resized.clone();
        use_effect_with((), move |_| {
            let window = web_sys::window();
            // The handle's value is the one of the render that made it: count here instead.
            let count = std::cell::Cell::new(0_u32);
            let listener = Closure::<dyn Fn()>::new(move || {
                count.set(count.get().wrapping_add(1));
                resized.set(count.get());
            });
            if let Some(w) = &window {
                let _ =
                    w.add_event_listener_with_callback("resize", listener.as_ref().unchecked_ref());
            }
            move || {
                if let Some(w) = window {
                    let _ = w.remove_event_listener_with_callback(
                        "resize",
                        listener.as_ref().unchecked_ref(),
                    );
                }
            }
        });
    }
    *resized
}

/// Asks once per change of `deps` (`ask(deps)`), and gives the answer for the newest `deps`:
/// an answer that comes after `deps` changed, or after the component went, is dropped.
#[hook]
pub fn use_fetch<D, T, F, Fut>(deps: D, ask: F) -> api::Fetch<Rc<T>>
where
    D: PartialEq + Clone + 'static,
    T: 'static,
    F: FnOnce(D) -> Fut + 'static,
    Fut: std::future::Future<Output = Result<T, api::ApiError>> + 'static,
{
    let state = use_state(|| api::Fetch::Loading);
    let asked = use_mut_ref(|| None::<D>);
    {
        let state = state.clone();
        use_effect_with(deps, move |deps| {
            asked.replace(Some(deps.clone()));
            state.set(api::Fetch::Loading);
            let question = deps.clone();
            let answer = ask(deps.clone());
            let current = asked.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let answer = answer.await.map(Rc::new);
                if current.borrow().as_ref() == Some(&question) {
                    state.set(answer.into());
                }
            });
            move || {
                asked.replace(None);
            }
        });
    }
    (*state).clone()
}

/// Asks now and every `period_ms`, keeping the last good answer while the next is on its way
/// (a wall must not blank a panel every minute, nor when the server is away for a moment).
#[hook]
pub fn use_polled<T, F, Fut>(period_ms: u32, ask: F) -> Option<Rc<T>>
where
    T: 'static,
    F: Fn() -> Fut + 'static,
    Fut: std::future::Future<Output = Result<T, api::ApiError>> + 'static,
{
    let value = use_state(|| None::<Rc<T>>);
    {
        let value = value.clone();
        use_effect_with((), move |_| {
            let alive = Rc::new(std::cell::Cell::new(true));
            let ask = Rc::new(ask);
            let fetch = {
                let (alive, value, ask) = (alive.clone(), value.clone(), ask.clone());
                move || {
                    let (alive, value) = (alive.clone(), value.clone());
                    let answer = ask();
                    wasm_bindgen_futures::spawn_local(async move {
                        match answer.await {
                            Ok(v) if alive.get() => value.set(Some(Rc::new(v))),
                            Ok(_) => {}
                            Err(e) => web_sys::console::warn_1(&format!("wall: {e}").into()),
                        }
                    });
                }
            };
            fetch();
            let timer = gloo_timers::callback::Interval::new(period_ms, fetch);
            move || {
                alive.set(false);
                drop(timer);
            }
        });
    }
    (*value).clone()
}
