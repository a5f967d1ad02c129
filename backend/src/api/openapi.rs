//! The contract, generated from the handlers' `#[utoipa::path]` attributes and the `shared`
//! types: `GET /api/v1/openapi.json` (no sign-in: it describes, it holds no data) and the
//! browsable docs at `/api/v1/docs/` (Swagger UI, its files compiled in). `assets/openapi.json`
//! is this document as committed; a test fails when the two differ (`make openapi` rewrites it).

use super::{
    accounts, alerts, auth, basemap, cylinders, density, device_keys, directories, displays, edits,
    events, filling_records, fillings, health, imports, incident_ops, incidents, lifecycle, lists,
    live, proposals, public, recalls, registry, stats, status, transfers,
};
use actix_web::HttpResponse;
use std::collections::BTreeMap;
use std::sync::LazyLock;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, RefOr, ResponseBuilder};
use utoipa::OpenApi;

/// The document's description.
const DESCRIPTION: &str = "气瓶安全信息追溯监管平台 — the HTTP contract of cylwatch \
(../shared/API.md), generated from the server's handlers. The live feed `GET /api/v1/live` is \
a WebSocket; its messages are described in README.md. Every error is \
`{\"error\": {\"code\", \"message\", \"field\"?}}` with one of the codes of `ErrorCode`.";

#[derive(OpenApi)]
#[openapi(
    info(title = "cylwatch", version = "1", description = DESCRIPTION),
    paths(
        health::health,
        health::ready,
        document,
        auth::login,
        auth::me,
        auth::logout,
        auth::create_user,
        auth::create_device,
        auth::revoke_device,
        device_keys::rotate_device_key,
        auth::audit,
        displays::create,
        displays::list,
        displays::revoke,
        displays::sign_in,
        accounts::change_password,
        accounts::suspend,
        accounts::reinstate,
        accounts::close,
        accounts::sessions,
        accounts::revoke_session,
        accounts::revoke_sessions,
        status::suspend_enterprise,
        status::reinstate_enterprise,
        status::close_enterprise,
        status::suspend_station,
        status::reinstate_station,
        status::close_station,
        status::suspend_staff,
        status::reinstate_staff,
        status::close_staff,
        status::suspend_vehicle,
        status::reinstate_vehicle,
        status::close_vehicle,
        status::suspend_device,
        status::reinstate_device,
        fillings::authorize,
        filling_records::record,
        fillings::station_summary,
        lists::fillings,
        lists::decisions,
        lists::history,
        lists::customers,
        lists::cylinders,
        alerts::list,
        alerts::get,
        alerts::ack,
        alerts::resolve,
        stats::inventory,
        stats::compliance,
        stats::registration,
        stats::fillings,
        stats::alerts,
        stats::recovery,
        stats::flows,
        density::density,
        density::vehicle_loads,
        density::sites,
        events::ingest,
        live::upgrade,
        live::ticket,
        registry::create_enterprise,
        registry::get_enterprise,
        registry::create_station,
        registry::grant_inspection,
        registry::create_customer,
        registry::create_staff,
        registry::create_vehicle,
        registry::create_geofence,
        edits::patch_enterprise,
        edits::enterprise_revisions,
        edits::get_station,
        edits::patch_station,
        edits::station_revisions,
        edits::get_customer,
        edits::patch_customer,
        edits::customer_revisions,
        edits::get_staff,
        edits::patch_staff,
        edits::staff_revisions,
        edits::get_vehicle,
        edits::patch_vehicle,
        edits::vehicle_revisions,
        edits::patch_cylinder,
        edits::cylinder_revisions,
        edits::get_geofence,
        edits::patch_geofence,
        edits::geofence_revisions,
        proposals::propose_enterprise,
        proposals::propose_staff,
        proposals::propose_cylinder,
        proposals::list,
        proposals::approve,
        proposals::reject,
        cylinders::create,
        cylinders::import,
        cylinders::export,
        cylinders::get_by_tag,
        cylinders::history,
        cylinders::get,
        // Issue 21 item 4: cylinder lifecycle.
        lifecycle::replace_tag,
        recalls::create,
        recalls::list,
        recalls::get,
        recalls::clear,
        transfers::offer,
        transfers::list,
        transfers::get,
        transfers::accept,
        transfers::decline,
        transfers::cancel,
        public::cylinder,
        basemap::districts,
        // Issue 21 item 5: the directories.
        directories::enterprises,
        directories::stations,
        directories::staff,
        directories::vehicles,
        directories::devices,
        directories::users,
        // Issue 21 item 6: CSV bulk registration.
        imports::customers,
        imports::staff,
        imports::vehicles,
        // Issue 22 items 1–2: incidents and their context.
        incidents::create,
        incidents::list,
        incidents::get,
        incidents::note,
        incidents::status,
        incidents::context,
        // Issue 22 items 4 and 6: responders, tasks, acknowledgement, downloads.
        incident_ops::create_unit,
        incident_ops::list_units,
        incident_ops::create_task,
        incident_ops::task_status,
        incident_ops::ack,
        incident_ops::report_csv,
        incident_ops::timeline_json,
    ),
    components(schemas(
        shared::ErrorBody,
        shared::ErrorCode,
        shared::registry::CylinderArchive,
        shared::place::SubjectKind,
        density::SiteKind
    )),
    modifiers(&Common),
)]
struct ApiDoc;

/// What every operation shares: the security schemes and the error answers.
struct Common;

impl utoipa::Modify for Common {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        merge_flattened(&mut components.schemas);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A user's token from POST /api/v1/auth/login"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "deviceKey",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Device-Key",
                "A device's key from POST /api/v1/devices",
            ))),
        );
        let error = |description: &str| {
            ResponseBuilder::new()
                .description(description)
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                        .build(),
                )
                .build()
        };
        for item in doc.paths.paths.values_mut() {
            for op in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                let responses = &mut op.responses.responses;
                responses.entry("4XX".into()).or_insert_with(|| {
                    RefOr::T(error(
                        "Bad input, no credentials, not allowed, not found, rate limited: nothing changed",
                    ))
                });
                responses.entry("5XX".into()).or_insert_with(|| {
                    RefOr::T(error("The server failed or a dependency is down"))
                });
            }
        }
    }
}

/// `#[serde(flatten)]` comes out of utoipa as `allOf` of the flattened type and the other
/// fields; when the flattened type denies unknown fields (a request type reused in an answer,
/// as `CylinderView` holds a `CylinderArchive`), no object can satisfy both. Each such schema
/// becomes one object with the properties and required fields of all its parts.
fn merge_flattened(schemas: &mut BTreeMap<String, RefOr<Schema>>) {
    let snapshot = schemas.clone();
    for schema in schemas.values_mut() {
        let RefOr::T(Schema::AllOf(all)) = schema else {
            continue;
        };
        let mut merged = ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(all.description.clone())
            .build();
        let mut whole = true;
        for item in &all.items {
            let part = match item {
                RefOr::Ref(r) => r
                    .ref_location
                    .strip_prefix("#/components/schemas/")
                    .and_then(|name| snapshot.get(name)),
                RefOr::T(_) => Some(item),
            };
            if let Some(RefOr::T(Schema::Object(part))) = part {
                merged.properties.extend(part.properties.clone());
                merged.required.extend(part.required.iter().cloned());
            } else {
                whole = false;
            }
        }
        if whole {
            *schema = RefOr::T(Schema::Object(merged));
        }
    }
}

/// The document as JSON, built once.
pub fn json() -> &'static str {
    static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
        ApiDoc::openapi()
            .to_pretty_json()
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    });
    &DOCUMENT
}

/// The OpenAPI document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "contract", responses((status = 200, description = "This document", content_type = "application/json", body = Object)))]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(json())
}

/// The browsable docs (Swagger UI) at `/api/v1/docs/`, reading `/api/v1/openapi.json`.
pub fn docs() -> utoipa_swagger_ui::SwaggerUi {
    utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}")
        .config(utoipa_swagger_ui::Config::new(["/api/v1/openapi.json"]))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed `assets/openapi.json` is the generated document: a change of the contract
    /// shows in review. `CYLWATCH_BLESS=1 cargo test -p cylwatch --lib openapi` rewrites it.
    #[test]
    fn the_committed_contract_is_the_generated_one() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../assets/openapi.json");
        let generated = format!("{}\n", json());
        if std::env::var_os("CYLWATCH_BLESS").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap();
        assert!(
            committed == generated,
            "assets/openapi.json differs from the contract the handlers declare; review the \
             change and rewrite it with `make openapi`"
        );
    }
}
