//! The cylwatch dashboard (Yew, client-side rendered).

mod app;
mod beep;
mod canvas;
mod components;
mod errors;
mod format;
mod geo;
mod hooks;
mod i18n;
mod incident_text;
mod labels;
mod pages;
mod record_fields;
mod services;
mod session;
mod state;
mod validity;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
