//! The cylwatch dashboard (Yew, client-side rendered).

mod app;
mod components;
mod geo;
mod i18n;
mod pages;
mod services;
mod state;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
