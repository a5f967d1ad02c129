//! Routes, and which pages sit in the dashboard shell (header, live feed) behind the sign-in,
//! and which stand alone (the sign-in page, the public QR page).

use crate::components::shell::Shell;
use crate::i18n::{Key, Lang, LangContext};
use crate::pages::alerts::AlertsPage;
use crate::pages::cylinder::CylinderPage;
use crate::pages::directory::DirectoryPage;
use crate::pages::enterprise::EnterprisePage;
use crate::pages::incident::IncidentPage;
use crate::pages::incident_report::IncidentReportPage;
use crate::pages::incidents::IncidentsPage;
use crate::pages::login::LoginPage;
use crate::pages::public::PublicPage;
use crate::pages::responder_units::ResponderUnitsPage;
use crate::pages::station::StationPage;
use crate::pages::stats::StatsPage;
use crate::pages::wall::Wall;
use crate::services::api::StatsScope;
use crate::services::registry::Directory;
use crate::services::token;
use crate::session::{RequireSession, Session, SessionContext};
use yew::prelude::*;
use yew_router::prelude::*;

/// Every page's path.
#[derive(Debug, Clone, PartialEq, Routable)]
pub enum Route {
    #[at("/")]
    Wall,
    #[at("/cylinders/:code")]
    Cylinder { code: String },
    /// A filling station's day: its guns' decisions, refusals by rule, fillings.
    #[at("/stations/:code")]
    Station { code: String },
    /// 名录: the directories of the registry, searched and filtered.
    #[at("/enterprises")]
    Enterprises,
    /// 企业档案: an enterprise's licences, sites, staff, figures and revisions.
    #[at("/enterprises/:code")]
    Enterprise { code: String },
    #[at("/stations")]
    Stations,
    #[at("/staff")]
    Staff,
    #[at("/vehicles")]
    Vehicles,
    #[at("/customers")]
    Customers,
    /// 值班台: the live alert feed, each alert's evidence and its handling.
    #[at("/alerts")]
    Alerts,
    /// 应急: the incidents being handled, the search of closed ones, and a new incident.
    #[at("/incidents")]
    Incidents,
    /// 处置单位: the responder units, and the form that registers one.
    #[at("/incidents/units")]
    ResponderUnits,
    /// One incident: status, timeline, context, recall.
    #[at("/incidents/:id")]
    Incident { id: String },
    /// A closed incident's report, for print.
    #[at("/incidents/:id/report")]
    IncidentReport { id: String },
    /// 统计: the city's statistics, and from there a district's, an enterprise's, a station's.
    #[at("/stats")]
    Stats,
    #[at("/stats/district/:code")]
    StatsDistrict { code: String },
    #[at("/stats/enterprise/:code")]
    StatsEnterprise { code: String },
    #[at("/stats/station/:code")]
    StatsStation { code: String },
    /// The QR code's target, for the public.
    #[at("/q/:code")]
    Public { code: String },
    /// Signing in; `?next=` is where to go afterwards.
    #[at("/login")]
    Login,
    #[not_found]
    #[at("/404")]
    NotFound,
}

fn switch(route: Route) -> Html {
    match route {
        // The public page stands alone: no dashboard header, and no live feed for a phone on
        // mobile data.
        Route::Public { code } => html! { <PublicPage {code} /> },
        Route::Login => html! { <LoginPage /> },
        // The same gate and `Shell` at the root of every other page keep one session check
        // and one live feed across them.
        Route::Wall => html! { <RequireSession><Shell><Wall /></Shell></RequireSession> },
        Route::Cylinder { code } => {
            html! { <RequireSession><Shell><CylinderPage {code} /></Shell></RequireSession> }
        }
        Route::Station { code } => {
            html! { <RequireSession><Shell><StationPage {code} /></Shell></RequireSession> }
        }
        Route::Enterprise { code } => {
            html! { <RequireSession><Shell><EnterprisePage key={code.as_str()} code={code.clone()} /></Shell></RequireSession> }
        }
        Route::Enterprises => directory(Directory::Enterprises),
        Route::Stations => directory(Directory::Stations),
        Route::Staff => directory(Directory::Staff),
        Route::Vehicles => directory(Directory::Vehicles),
        Route::Customers => directory(Directory::Customers),
        Route::Alerts => {
            html! { <RequireSession><Shell><AlertsPage /></Shell></RequireSession> }
        }
        Route::Incidents => {
            html! { <RequireSession><Shell><IncidentsPage /></Shell></RequireSession> }
        }
        Route::ResponderUnits => {
            html! { <RequireSession><Shell><ResponderUnitsPage /></Shell></RequireSession> }
        }
        Route::Incident { id } => {
            html! { <RequireSession><Shell><IncidentPage key={id.as_str()} id={id.clone()} /></Shell></RequireSession> }
        }
        Route::IncidentReport { id } => {
            html! { <RequireSession><Shell><IncidentReportPage key={id.as_str()} id={id.clone()} /></Shell></RequireSession> }
        }
        Route::Stats => stats(StatsScope::City),
        Route::StatsDistrict { code } => stats(StatsScope::District(code)),
        Route::StatsEnterprise { code } => stats(StatsScope::Enterprise(code)),
        Route::StatsStation { code } => stats(StatsScope::Station(code)),
        Route::NotFound => {
            html! { <RequireSession><Shell><NotFound /></Shell></RequireSession> }
        }
    }
}

/// A directory; keyed by it, so that another directory starts with an empty search.
fn directory(kind: Directory) -> Html {
    let key = kind.collection();
    html! { <RequireSession><Shell><DirectoryPage {key} {kind} /></Shell></RequireSession> }
}

/// A level of the statistics; keyed by it, so that another level starts afresh (no list of
/// the last level left open).
fn stats(scope: StatsScope) -> Html {
    let key = format!("{scope:?}");
    html! { <RequireSession><Shell><StatsPage {key} {scope} /></Shell></RequireSession> }
}

/// The application root.
#[component]
pub fn App() -> Html {
    let lang = use_state(Lang::load);
    let set_lang = {
        let lang = lang.clone();
        Callback::from(move |next: Lang| {
            next.store();
            lang.set(next);
        })
    };
    let lang_context = LangContext {
        lang: *lang,
        set: set_lang,
    };
    let session = use_state(Session::load);
    let set_session = {
        let setter = session.setter();
        use_memo((), move |_| {
            Callback::from(move |next: Session| setter.set(next))
        })
    };
    // Any 401 (from `api`, the live feed) ends the session here; registered while rendering
    // so that it is in place before any page's first call.
    {
        let set = (*set_session).clone();
        token::on_expired(Some(Callback::from(move |()| {
            // A wall signs itself in again with its display key; a person signs in.
            match token::display_key() {
                Some(key) => crate::session::resume_wall(key, set.clone()),
                None => set.emit(Session::SignedOut),
            }
        })));
    }
    let session_context = SessionContext {
        session: (*session).clone(),
        set: (*set_session).clone(),
    };
    html! {
        <ContextProvider<LangContext> context={lang_context}>
            <ContextProvider<SessionContext> context={session_context}>
                <BrowserRouter>
                    <Switch<Route> render={switch} />
                </BrowserRouter>
            </ContextProvider<SessionContext>>
        </ContextProvider<LangContext>>
    }
}

#[component]
fn NotFound() -> Html {
    let lang = crate::i18n::use_lang().lang;
    html! {
        <section class="not-found">
            <h1>{ lang.t(Key::NotFound) }</h1>
            <Link<Route> to={Route::Wall}>{ lang.t(Key::BackToWall) }</Link<Route>>
        </section>
    }
}
