//! Hooks the pages share: the district base map (fetched once per page load) and a counter
//! that changes whenever the window is resized, for canvases to redraw.

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
    Failed(String),
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
                        Err(e) => Basemap::Failed(e.to_string()),
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
