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
