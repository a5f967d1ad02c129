use crate::common::spawn_app;

#[tokio::test]
async fn serves_the_dashboard_the_basemap_and_json_404s() {
    let app = spawn_app().await;
    let index = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(index.status().as_u16(), 200);
    let html = index.text().await.unwrap();
    assert!(
        html.contains("<html") && html.contains(".wasm"),
        "the built dashboard: {html}"
    );
    // Deep links are the frontend router's: they get index.html too.
    let deep = app
        .client
        .get(app.url("/cylinders/ZZ0001"))
        .send()
        .await
        .unwrap();
    assert_eq!(deep.status().as_u16(), 200);
    assert_eq!(deep.text().await.unwrap(), html);

    let (status, map) = app.get_json("/api/v1/basemap/districts").await;
    assert_eq!(status, 200);
    let features = map["features"].as_array().unwrap();
    assert_eq!(features.len(), 12);
    assert!(features.iter().any(|f| f["properties"]["name"] == "金水区"));

    let (status, body) = app.get_json("/api/v1/no-such-thing").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "not_found");
    let wrong_method = app
        .client
        .get(app.url("/api/v1/events"))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong_method.status().as_u16(), 405);
    let body: serde_json::Value = wrong_method.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed");
}

/// `GET /api/v1/openapi.json` describes every route of the routing table, and nothing else.
#[tokio::test]
async fn the_openapi_document_lists_every_route() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200, "no sign-in needed");
    let doc: serde_json::Value = response.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.0.3");
    let mut documented: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (path.clone(), m.clone()))
        })
        .collect();
    documented.sort();
    // The routing table, read from its source: resource("<path>", web::<method>()...
    let source =
        std::fs::read_to_string(crate::common::workspace().join("backend/src/api/mod.rs")).unwrap();
    let mut routed = Vec::new();
    let mut rest = source.as_str();
    while let Some(at) = rest.find("resource(") {
        rest = &rest[at + "resource(".len()..];
        let Some(open) = rest.find('"') else { break };
        let Some(close) = rest[open + 1..].find('"') else {
            break;
        };
        let path = &rest[open + 1..open + 1 + close];
        let after = &rest[open + 1 + close..];
        // Every method routed before the next resource.
        let this = &after[..after.find("resource(").unwrap_or(after.len())];
        if path.starts_with('/') {
            for m in ["get", "post"] {
                if this.contains(&format!("web::{m}()")) {
                    routed.push((format!("/api/v1{path}"), m.to_owned()));
                }
            }
        }
    }
    routed.sort();
    assert_eq!(documented, routed);
}
