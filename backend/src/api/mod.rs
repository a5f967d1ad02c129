//! HTTP handlers, one resource per module, and the routing table.

pub mod accounts;
pub mod alerts;
pub mod auth;
pub mod basemap;
pub mod body;
pub mod certified;
pub mod cylinders;
pub mod density;
pub mod device_keys;
pub mod directories;
pub mod displays;
pub mod edits;
pub mod events;
pub mod extract;
pub mod facts;
pub mod filling_records;
pub mod fillings;
pub mod guard;
pub mod headers;
pub mod health;
pub mod imports;
pub mod inactive;
pub mod incident_context;
pub mod incident_ops;
pub mod incidents;
pub mod lifecycle;
pub mod limiter;
pub mod lists;
pub mod live;
pub mod metrics;
pub mod openapi;
pub mod paged;
pub mod proposals;
pub mod public;
pub mod recalls;
pub mod refusals;
pub mod registry;
pub mod state;
pub mod stats;
pub mod status;
pub mod text;
pub mod trace;
pub mod transfers;

use crate::error::error_response;
use actix_web::{web, HttpRequest, HttpResponse, Route};
use chrono::{DateTime, Utc};
use shared::ErrorCode;
use uuid::Uuid;

/// Mounts `/api/v1/...`; unknown paths answer a JSON 404, known paths with the wrong method a
/// JSON 405.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1")
            .wrap(actix_web::middleware::from_fn(text::refuse_nul))
            .wrap(actix_web::middleware::from_fn(guard::guard))
            // The devices' hot paths first: the router tries resources in the order they are
            // registered, each pattern with a `{segment}` by a regex search, and a request to a
            // resource registered after dozens of them paid for every one (measured: the
            // filling decision's per-request CPU grew with the routes issues 20–23 added).
            // Nothing registered before them could match these paths.
            .service(resource(
                "/fillings/authorize",
                web::post().to(fillings::authorize),
            ))
            .service(
                resource("/fillings", web::post().to(filling_records::record))
                    .route(web::get().to(lists::fillings)),
            )
            .service(resource("/events", web::post().to(events::ingest)))
            .service(resource("/health", web::get().to(health::health)))
            .service(resource("/health/ready", web::get().to(health::ready)))
            .service(resource("/openapi.json", web::get().to(openapi::document)))
            .service(openapi::docs())
            .service(resource("/auth/login", web::post().to(auth::login)))
            .service(resource("/auth/me", web::get().to(auth::me)))
            .service(resource("/auth/logout", web::post().to(auth::logout)))
            .service(resource(
                "/auth/password",
                web::post().to(accounts::change_password),
            ))
            .service(
                resource("/users", web::post().to(auth::create_user))
                    .route(web::get().to(directories::users)),
            )
            .service(
                resource("/displays", web::post().to(displays::create))
                    .route(web::get().to(displays::list)),
            )
            .service(resource(
                "/displays/{name}/revoke",
                web::post().to(displays::revoke),
            ))
            .service(resource("/auth/display", web::post().to(displays::sign_in)))
            .service(resource(
                "/users/{username}/suspend",
                web::post().to(accounts::suspend),
            ))
            .service(resource(
                "/users/{username}/reinstate",
                web::post().to(accounts::reinstate),
            ))
            .service(resource(
                "/users/{username}/close",
                web::post().to(accounts::close),
            ))
            .service(resource(
                "/users/{username}/sessions",
                web::get().to(accounts::sessions),
            ))
            .service(resource(
                "/users/{username}/sessions/revoke",
                web::post().to(accounts::revoke_sessions),
            ))
            .service(resource(
                "/users/{username}/sessions/{id}/revoke",
                web::post().to(accounts::revoke_session),
            ))
            .service(
                resource("/devices", web::post().to(auth::create_device))
                    .route(web::get().to(directories::devices)),
            )
            .service(resource(
                "/devices/{device_id}/revoke",
                web::post().to(auth::revoke_device),
            ))
            // Issue 23: a device's new key (HTTP and MQTT).
            .service(resource(
                "/devices/{device_id}/key",
                web::post().to(device_keys::rotate_device_key),
            ))
            .service(resource("/audit", web::get().to(auth::audit)))
            .service(resource(
                "/fillings/decisions",
                web::get().to(lists::decisions),
            ))
            .service(resource(
                "/stations/{code}/filling-summary",
                web::get().to(fillings::station_summary),
            ))
            // Issue 22 items 1–2: incidents and their context.
            .service(
                resource("/incidents", web::post().to(incidents::create))
                    .route(web::get().to(incidents::list)),
            )
            .service(resource("/incidents/{id}", web::get().to(incidents::get)))
            .service(resource(
                "/incidents/{id}/timeline",
                web::post().to(incidents::note),
            ))
            .service(resource(
                "/incidents/{id}/status",
                web::post().to(incidents::status),
            ))
            .service(resource(
                "/incidents/{id}/context",
                web::get().to(incidents::context),
            ))
            // Issue 22 items 4 and 6: responders, tasks, acknowledgement, downloads.
            .service(
                resource(
                    "/responder-units",
                    web::post().to(incident_ops::create_unit),
                )
                .route(web::get().to(incident_ops::list_units)),
            )
            .service(resource(
                "/incidents/{id}/tasks",
                web::post().to(incident_ops::create_task),
            ))
            .service(resource(
                "/incidents/{id}/tasks/{task_id}/status",
                web::post().to(incident_ops::task_status),
            ))
            .service(resource(
                "/incidents/{id}/ack",
                web::post().to(incident_ops::ack),
            ))
            .service(resource(
                "/incidents/{id}/report.csv",
                web::get().to(incident_ops::report_csv),
            ))
            .service(resource(
                "/incidents/{id}/timeline.json",
                web::get().to(incident_ops::timeline_json),
            ))
            .service(resource("/alerts", web::get().to(alerts::list)))
            .service(resource("/alerts/{id}", web::get().to(alerts::get)))
            .service(resource("/alerts/{id}/ack", web::post().to(alerts::ack)))
            .service(resource(
                "/alerts/{id}/resolve",
                web::post().to(alerts::resolve),
            ))
            .service(resource(
                "/stats/inventory",
                web::get().to(stats::inventory),
            ))
            .service(resource(
                "/stats/compliance",
                web::get().to(stats::compliance),
            ))
            .service(resource("/stats/fillings", web::get().to(stats::fillings)))
            .service(resource("/stats/alerts", web::get().to(stats::alerts)))
            .service(resource("/stats/recovery", web::get().to(stats::recovery)))
            .service(resource("/stats/flows", web::get().to(stats::flows)))
            .service(resource("/history", web::get().to(lists::history)))
            .service(resource(
                "/stats/registration",
                web::get().to(stats::registration),
            ))
            .service(resource("/stats/density", web::get().to(density::density)))
            .service(resource(
                "/stats/vehicle-loads",
                web::get().to(density::vehicle_loads),
            ))
            .service(resource("/sites", web::get().to(density::sites)))
            .service(resource("/live", web::get().to(live::upgrade)))
            .service(resource("/live/ticket", web::post().to(live::ticket)))
            .service(
                resource("/enterprises", web::post().to(registry::create_enterprise))
                    .route(web::get().to(directories::enterprises)),
            )
            .service(
                resource(
                    "/enterprises/{code}",
                    web::get().to(registry::get_enterprise),
                )
                .route(web::patch().to(edits::patch_enterprise)),
            )
            .service(
                resource("/stations", web::post().to(registry::create_station))
                    .route(web::get().to(directories::stations)),
            )
            .service(resource(
                "/stations/{code}/inspection-grant",
                web::post().to(registry::grant_inspection),
            ))
            .service(
                resource("/customers", web::post().to(registry::create_customer))
                    .route(web::get().to(lists::customers)),
            )
            // Before any `/customers/{code}`-like resource, which would take the path.
            .service(resource(
                "/customers/import",
                web::post().to(imports::customers),
            ))
            .service(resource("/staff/import", web::post().to(imports::staff)))
            .service(resource(
                "/vehicles/import",
                web::post().to(imports::vehicles),
            ))
            .service(
                resource("/staff", web::post().to(registry::create_staff))
                    .route(web::get().to(directories::staff)),
            )
            .service(
                resource("/vehicles", web::post().to(registry::create_vehicle))
                    .route(web::get().to(directories::vehicles)),
            )
            .service(resource(
                "/geofences",
                web::post().to(registry::create_geofence),
            ))
            // Status instead of delete (issue 21 item 2).
            .service(resource(
                "/enterprises/{code}/suspend",
                web::post().to(status::suspend_enterprise),
            ))
            .service(resource(
                "/enterprises/{code}/reinstate",
                web::post().to(status::reinstate_enterprise),
            ))
            .service(resource(
                "/enterprises/{code}/close",
                web::post().to(status::close_enterprise),
            ))
            .service(resource(
                "/stations/{code}/suspend",
                web::post().to(status::suspend_station),
            ))
            .service(resource(
                "/stations/{code}/reinstate",
                web::post().to(status::reinstate_station),
            ))
            .service(resource(
                "/stations/{code}/close",
                web::post().to(status::close_station),
            ))
            .service(resource(
                "/staff/{code}/suspend",
                web::post().to(status::suspend_staff),
            ))
            .service(resource(
                "/staff/{code}/reinstate",
                web::post().to(status::reinstate_staff),
            ))
            .service(resource(
                "/staff/{code}/close",
                web::post().to(status::close_staff),
            ))
            .service(resource(
                "/vehicles/{code}/suspend",
                web::post().to(status::suspend_vehicle),
            ))
            .service(resource(
                "/vehicles/{code}/reinstate",
                web::post().to(status::reinstate_vehicle),
            ))
            .service(resource(
                "/vehicles/{code}/close",
                web::post().to(status::close_vehicle),
            ))
            .service(resource(
                "/devices/{device_id}/suspend",
                web::post().to(status::suspend_device),
            ))
            .service(resource(
                "/devices/{device_id}/reinstate",
                web::post().to(status::reinstate_device),
            ))
            // Registry records one at a time: read with the version, edit, revisions.
            .service(resource(
                "/enterprises/{code}/revisions",
                web::get().to(edits::enterprise_revisions),
            ))
            .service(
                resource("/stations/{code}", web::get().to(edits::get_station))
                    .route(web::patch().to(edits::patch_station)),
            )
            .service(resource(
                "/stations/{code}/revisions",
                web::get().to(edits::station_revisions),
            ))
            .service(
                resource("/customers/{code}", web::get().to(edits::get_customer))
                    .route(web::patch().to(edits::patch_customer)),
            )
            .service(resource(
                "/customers/{code}/revisions",
                web::get().to(edits::customer_revisions),
            ))
            .service(
                resource("/staff/{staff_no}", web::get().to(edits::get_staff))
                    .route(web::patch().to(edits::patch_staff)),
            )
            .service(resource(
                "/staff/{staff_no}/revisions",
                web::get().to(edits::staff_revisions),
            ))
            .service(
                resource("/vehicles/{plate}", web::get().to(edits::get_vehicle))
                    .route(web::patch().to(edits::patch_vehicle)),
            )
            .service(resource(
                "/vehicles/{plate}/revisions",
                web::get().to(edits::vehicle_revisions),
            ))
            .service(
                resource("/cylinders", web::post().to(cylinders::create))
                    .route(web::get().to(lists::cylinders)),
            )
            .service(resource(
                "/cylinders/import",
                web::post().to(cylinders::import),
            ))
            .service(resource(
                "/cylinders/export",
                web::get().to(cylinders::export),
            ))
            .service(resource(
                "/cylinders/by-tag/{tag_id}",
                web::get().to(cylinders::get_by_tag),
            ))
            .service(resource(
                "/cylinders/{code}/history",
                web::get().to(cylinders::history),
            ))
            // Issue 22 item 3: recalls.
            .service(
                resource("/recalls", web::get().to(recalls::list))
                    .route(web::post().to(recalls::create)),
            )
            .service(resource("/recalls/{id}", web::get().to(recalls::get)))
            .service(resource(
                "/recalls/{id}/clear",
                web::post().to(recalls::clear),
            ))
            // Issue 21 item 4: cylinder lifecycle.
            .service(resource(
                "/cylinders/{code}/replace-tag",
                web::post().to(lifecycle::replace_tag),
            ))
            // Issue 21 item 4: transfers between enterprises.
            .service(
                resource("/transfers", web::post().to(transfers::offer))
                    .route(web::get().to(transfers::list)),
            )
            .service(resource("/transfers/{id}", web::get().to(transfers::get)))
            .service(resource(
                "/transfers/{id}/accept",
                web::post().to(transfers::accept),
            ))
            .service(resource(
                "/transfers/{id}/decline",
                web::post().to(transfers::decline),
            ))
            .service(resource(
                "/transfers/{id}/cancel",
                web::post().to(transfers::cancel),
            ))
            .service(
                resource("/cylinders/{code}", web::get().to(cylinders::get))
                    .route(web::patch().to(edits::patch_cylinder)),
            )
            .service(resource(
                "/cylinders/{code}/revisions",
                web::get().to(edits::cylinder_revisions),
            ))
            .service(
                resource("/geofences/{id}", web::get().to(edits::get_geofence))
                    .route(web::patch().to(edits::patch_geofence)),
            )
            .service(resource(
                "/geofences/{id}/revisions",
                web::get().to(edits::geofence_revisions),
            ))
            // Proposals of what regulators write, and their decisions.
            .service(resource(
                "/enterprises/{code}/proposals",
                web::post().to(proposals::propose_enterprise),
            ))
            .service(resource(
                "/staff/{staff_no}/proposals",
                web::post().to(proposals::propose_staff),
            ))
            .service(resource(
                "/cylinders/{code}/proposals",
                web::post().to(proposals::propose_cylinder),
            ))
            .service(resource("/proposals", web::get().to(proposals::list)))
            .service(resource(
                "/proposals/{id}/approve",
                web::post().to(proposals::approve),
            ))
            .service(resource(
                "/proposals/{id}/reject",
                web::post().to(proposals::reject),
            ))
            .service(resource(
                "/public/cylinders/{code}",
                web::get().to(public::cylinder),
            ))
            .service(resource(
                "/basemap/districts",
                web::get().to(basemap::districts),
            ))
            .default_service(web::to(not_found)),
    );
}

fn resource(path: &str, route: Route) -> actix_web::Resource {
    web::resource(path)
        .route(route)
        .default_service(web::to(method_not_allowed))
}

async fn not_found(req: HttpRequest) -> HttpResponse {
    error_response(
        ErrorCode::NotFound,
        format!("no endpoint {} {}", req.method(), req.path()),
    )
}

async fn method_not_allowed(req: HttpRequest) -> HttpResponse {
    error_response(
        ErrorCode::MethodNotAllowed,
        format!("{} does not accept {}", req.path(), req.method()),
    )
}

/// Why a query string was refused (every route's `invalid_query`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// The query string does not parse into the route's parameters (serde's message).
    #[error("{0}")]
    Malformed(String),
    #[error("limit must be between 1 and 1000")]
    Limit,
    #[error("cursor is not one this server gave")]
    Cursor,
    #[error("unknown format {0:?}; expected json or csv")]
    Format(String),
    #[error("from must be before to")]
    WindowOrder,
}

impl QueryError {
    /// A query string actix could not parse into the route's parameters.
    pub fn malformed(error: actix_web::Error) -> Self {
        Self::Malformed(error.to_string())
    }
}

impl crate::error::ModuleError for QueryError {
    fn code(&self) -> ErrorCode {
        ErrorCode::InvalidQuery
    }

    fn field(&self) -> Option<&str> {
        match self {
            Self::Limit => Some("limit"),
            Self::Malformed(_) | Self::Cursor | Self::Format(_) | Self::WindowOrder => None,
        }
    }
}

/// A list's `?limit=` (default 100, 1..=1000).
pub fn page_limit(limit: Option<i64>) -> Result<i64, QueryError> {
    let limit = limit.unwrap_or(100);
    if (1..=1000).contains(&limit) {
        Ok(limit)
    } else {
        Err(QueryError::Limit)
    }
}

/// A page cursor `<micros>_<uuid>` as this server hands them out.
pub fn parse_cursor(cursor: &str) -> Result<(DateTime<Utc>, Uuid), QueryError> {
    let bad = || QueryError::Cursor;
    let (micros, id) = cursor.split_once('_').ok_or_else(bad)?;
    let at = micros
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(bad)?;
    Ok((at, Uuid::parse_str(id).map_err(|_| bad())?))
}
