//! Transfers split the history: the old owner sees nothing after, the new owner nothing before
//! (its customers and staff), the regulator all.

use super::transfers::*;
use crate::common::{scan, spawn_app};
use crate::filling::cylinder;
use chrono::Utc;
use reqwest::Method;
use serde_json::{json, Value};

#[tokio::test]
async fn after_a_transfer_the_old_owner_sees_no_later_event_and_the_new_owner_no_earlier_customer()
{
    let app = spawn_app().await;
    let p = parties(&app).await;
    // Overdue for inspection: every delivery raises `cylinder_overdue` about it.
    cylinder(
        &app,
        "Y1",
        "ST1",
        json!({"last_inspected_on": "2021-01-01", "next_inspection_on": "2024-01-01"}),
    )
    .await;
    let ent2_device = app.new_device("ENT2", json!({})).await;

    // ENT1's period: delivered to its customer by its staff member, then back in stock.
    let before_transfer = json!({"events": [
        scan("fill", "Y1", &ago(60), json!({"station_code": "ST1", "staff_no": "S1"})),
        scan("deliver", "Y1", &ago(50), json!({"customer_code": "C1", "staff_no": "S1"})),
        scan("collect_empty", "Y1", &ago(40), json!({"customer_code": "C1", "staff_no": "S1"})),
        scan("return_in", "Y1", &ago(30), json!({"station_code": "ST1", "staff_no": "S1"})),
    ]});
    let (status, answer) = app.post_events(&before_transfer).await;
    assert_eq!(status, 202, "{answer}");
    let overdue_of = |token: String| {
        let app = &app;
        async move {
            let (status, page) = call(
                app,
                Method::GET,
                "/api/v1/alerts?kind=cylinder_overdue",
                None,
                &token,
            )
            .await;
            assert_eq!(status, 200, "{page}");
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["subject"]["id"] == "Y1")
                .cloned()
                .collect::<Vec<Value>>()
        }
    };
    // Each of the four rows is a sighting.
    app.wait_until(|| async {
        overdue_of(p.ent1.clone())
            .await
            .first()
            .is_some_and(|a| a["count"] == 4)
    })
    .await;
    let old_alerts = overdue_of(p.ent1.clone()).await;

    let (status, offered) = offer(
        &app,
        &p.ent1,
        json!({"cylinder_codes": ["Y1"], "to_enterprise_code": "ENT2", "station_code": "ST9"}),
    )
    .await;
    assert_eq!(status, 201, "{offered}");
    let (status, accepted) = decide(&app, &p.ent2, &offered["id"], "accept").await;
    assert_eq!(status, 200, "{accepted}");
    let transferred_at = accepted["decided_at"].as_str().unwrap().to_owned();

    // Both administrators watch the live feed.
    let mut feeds = Vec::new();
    for token in [&p.ent1, &p.ent2] {
        let url = app.live_url_for(token).await;
        let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        let snapshot = crate::live::next_json(&mut ws).await;
        assert_eq!(snapshot["type"], "snapshot", "{snapshot}");
        feeds.push(ws);
    }

    // ENT2's period: its own device delivers it to its customer (the canary: 新东家饭店).
    let after_transfer = json!({"events": [
        scan("deliver", "Y1", &Utc::now().to_rfc3339(),
             json!({"customer_code": "C9", "staff_no": "S1"})),
    ]});
    let (status, answer) = app.post_events_as(&ent2_device, &after_transfer).await;
    assert_eq!(status, 202, "{answer}");
    app.wait_until(|| async {
        let (_, h) = app.get_json("/api/v1/cylinders/Y1/history").await;
        h["items"].as_array().is_some_and(|i| i.len() == 6)
    })
    .await;
    app.wait_until(|| async { !overdue_of(p.ent2.clone()).await.is_empty() })
        .await;
    // The live feed: the new owner is told of the delivery; the old owner, in the same while,
    // of nothing about the cylinder.
    let mut old_feed = feeds.remove(0);
    let mut new_feed = feeds.remove(0);
    let told = crate::live::until(&mut new_feed, |m| {
        m["type"] == "cylinder" && m["code"] == "Y1"
    })
    .await;
    assert_eq!(told["custody"], "at_customer", "{told}");
    let quiet_until = tokio::time::Instant::now() + std::time::Duration::from_secs(2);
    while let Ok(Some(Ok(message))) =
        tokio::time::timeout_at(quiet_until, futures_util::StreamExt::next(&mut old_feed)).await
    {
        let text = message.into_text().unwrap_or_default();
        assert!(
            !text.contains("\"Y1\"") && !text.contains("C9"),
            "the old owner was told: {text}"
        );
    }

    // The old owner: the cylinder is gone from its routes, its history list and its alerts
    // hold nothing after the transfer (its own alert is closed as of the transfer).
    let (status, _) = call(
        &app,
        Method::GET,
        "/api/v1/cylinders/Y1/history",
        None,
        &p.ent1,
    )
    .await;
    assert_eq!(status, 404);
    // Its history list keeps its own period of the cylinder, and nothing after it.
    let (status, list) = call(&app, Method::GET, "/api/v1/history", None, &p.ent1).await;
    assert_eq!(status, 200, "{list}");
    let listed: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["op"].as_str().unwrap())
        .collect();
    assert_eq!(
        listed,
        vec!["return_in", "collect_empty", "deliver", "fill"],
        "{list}"
    );
    assert!(!list.to_string().contains("C9"), "{list}");
    let (status, moved) = call(
        &app,
        Method::GET,
        "/api/v1/history?from_site=station:ST1&to_site=customer:C1",
        None,
        &p.ent1,
    )
    .await;
    assert_eq!(
        (status, moved["items"].as_array().map(Vec::len)),
        (200, Some(1)),
        "{moved}"
    );
    // Its figures count its own period: its delivery (collected since), not ENT2's.
    let figures = |token: String| {
        let app = &app;
        async move {
            let (_, recovery) =
                call(app, Method::GET, "/api/v1/stats/recovery", None, &token).await;
            let (_, flows) = call(app, Method::GET, "/api/v1/stats/flows", None, &token).await;
            let moves: Vec<(Value, Value, Value)> = flows["flows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    (
                        f["from"]["code"].clone(),
                        f["to"]["code"].clone(),
                        f["count"].clone(),
                    )
                })
                .collect();
            (
                recovery["total"]["delivered"].clone(),
                recovery["total"]["returned"].clone(),
                moves,
            )
        }
    };
    assert_eq!(
        figures(p.ent1.clone()).await,
        (
            json!(1),
            json!(1),
            vec![
                (json!("C1"), json!("ST1"), json!(1)),
                (json!("ST1"), json!("C1"), json!(1))
            ]
        )
    );
    assert_eq!(figures(p.ent2.clone()).await, (json!(1), json!(0), vec![]));
    // The regulator counts each delivery for the enterprise that owned the cylinder then.
    let (_, recovery) = app.get_json("/api/v1/stats/recovery").await;
    let groups: Vec<(Value, Value)> = recovery["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["enterprise_code"].clone(), g["delivered"].clone()))
        .collect();
    assert_eq!(
        groups,
        vec![(json!("ENT1"), json!(1)), (json!("ENT2"), json!(1))],
        "{recovery}"
    );
    let (status, alerts) = call(&app, Method::GET, "/api/v1/alerts", None, &p.ent1).await;
    assert_eq!(status, 200, "{alerts}");
    assert!(
        !alerts.to_string().contains("C9") && !alerts.to_string().contains("新东家"),
        "{alerts}"
    );
    let now_old = overdue_of(p.ent1.clone()).await;
    assert_eq!(now_old.len(), 1, "{now_old:?}");
    assert_eq!(
        (
            &now_old[0]["id"],
            &now_old[0]["count"],
            &now_old[0]["status"]
        ),
        (
            &old_alerts[0]["id"],
            &old_alerts[0]["count"],
            &json!("resolved")
        ),
        "{now_old:?}"
    );

    // The new owner: from the transfer on, never ENT1's customer or staff member.
    let (status, history) = call(
        &app,
        Method::GET,
        "/api/v1/cylinders/Y1/history",
        None,
        &p.ent2,
    )
    .await;
    assert_eq!(status, 200, "{history}");
    let items = history["items"].as_array().unwrap();
    let ops: Vec<&str> = items.iter().map(|i| i["op"].as_str().unwrap()).collect();
    assert_eq!(ops, vec!["change_owner", "deliver"], "{history}");
    let text = history.to_string();
    for earlier in ["四仙包子店", "陈荣华", "\"C1\""] {
        assert!(!text.contains(earlier), "{earlier}: {history}");
    }
    assert!(
        text.contains("新东家饭店") && text.contains("王新员"),
        "{history}"
    );
    let (status, list) = call(&app, Method::GET, "/api/v1/history", None, &p.ent2).await;
    assert_eq!(status, 200, "{list}");
    let listed: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["op"].as_str().unwrap())
        .collect();
    assert_eq!(listed, vec!["deliver"], "{list}");
    assert!(!list.to_string().contains("C1"), "{list}");
    let new_alerts = overdue_of(p.ent2.clone()).await;
    assert_eq!(new_alerts.len(), 1, "{new_alerts:?}");
    assert_ne!(new_alerts[0]["id"], old_alerts[0]["id"]);
    assert!(
        new_alerts[0]["opened_at"].as_str().unwrap() >= transferred_at.as_str(),
        "{new_alerts:?} {transferred_at}"
    );

    // The regulator sees both periods, each with its own enterprise's staff member.
    let (_, all) = app.get_json("/api/v1/cylinders/Y1/history").await;
    let names: Vec<(&str, Option<&str>)> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["op"].as_str().unwrap(), i["staff_name"].as_str()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("fill", Some("陈荣华")),
            ("deliver", Some("陈荣华")),
            ("collect_empty", Some("陈荣华")),
            ("return_in", Some("陈荣华")),
            ("change_owner", None),
            ("deliver", Some("王新员")),
        ],
        "{all}"
    );
    assert!(all.to_string().contains("四仙包子店"), "{all}");

    // A later event from the old owner's device about it is not applied as its own.
    let stray = json!({"events": [
        scan("fill", "Y1", &Utc::now().to_rfc3339(), json!({"station_code": "ST1", "staff_no": "S1"})),
    ]});
    let (status, answer) = app.post_events(&stray).await;
    assert_eq!(status, 202, "{answer}");
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let (_, all) = app.get_json("/api/v1/cylinders/Y1/history").await;
    assert_eq!(all["items"].as_array().unwrap().len(), 6, "{all}");
}
