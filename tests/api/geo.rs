//! Issue 20 items 3 and 4: geofences are scoped and a site's district is where it lies. The
//! attacker is a second enterprise's admin (or device).

// ---------------------------------------------------------------------------------------------
// Items 3 and 4: geofences are scoped (an enterprise's fences apply to its own vehicles only;
// restricted zones and fences for every vehicle are drawn by the city's regulators; shapes are
// bounded and valid) and a site's district is the one its point lies in.
// ---------------------------------------------------------------------------------------------
mod geo_scope {
    use crate::access::PASSWORD;
    use crate::common::TestDb;
    use crate::common::{enterprise, gps, spawn_app, spawn_app_with, station, AppConfig, TestApp};
    use reqwest::Method;
    use serde_json::{json, Value};

    fn square(x0: f64, y0: f64, size: f64) -> Value {
        json!({"type": "Polygon", "coordinates": [[[x0, y0], [x0 + size, y0], [x0 + size, y0 + size],
                                                   [x0, y0 + size], [x0, y0]]]})
    }

    /// A user with `role` (of `enterprise` or `district`), signed in.
    async fn user(app: &TestApp, name: &str, role: &str, scope: Value) -> String {
        let mut body = json!({"username": name, "password": PASSWORD, "role": role});
        if let (Some(b), Value::Object(more)) = (body.as_object_mut(), scope) {
            b.extend(more);
        }
        let (status, answer) = app.post_json("/api/v1/users", &body).await;
        assert_eq!(status, 201, "{answer}");
        app.login(name, PASSWORD).await
    }

    async fn post_as(app: &TestApp, token: &str, path: &str, body: &Value) -> (u16, Value) {
        app.send_json(Method::POST, path, Some(body), Some(token))
            .await
    }

    async fn count(app: &TestApp, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&app.db.pool)
            .await
            .unwrap()
    }

    /// Enterprises EA and EB, each with a vehicle; EB's admin signed in.
    async fn two_enterprises(app: &TestApp) -> String {
        for code in ["EA", "EB"] {
            assert_eq!(
                app.post_json("/api/v1/enterprises", &enterprise(code))
                    .await
                    .0,
                201
            );
            let vehicle = json!({"plate": format!("豫A{code}001"), "enterprise_code": code});
            assert_eq!(app.post_json("/api/v1/vehicles", &vehicle).await.0, 201);
        }
        user(
            app,
            "eb-admin",
            "enterprise_admin",
            json!({"enterprise_code": "EB"}),
        )
        .await
    }

    fn refused(answer: &(u16, Value), status: u16, code: &str, field: &str) {
        assert_eq!(answer.0, status, "{}", answer.1);
        assert_eq!(answer.1["error"]["code"], code, "{}", answer.1);
        assert_eq!(answer.1["error"]["field"], field, "{}", answer.1);
    }

    /// Restricted zones, city-wide corridors and any fence for every vehicle are drawn by the
    /// admin or a city regulator only; an enterprise's corridor lists its own vehicles only.
    #[tokio::test]
    async fn only_city_regulators_draw_restricted_zones_and_fences_for_every_vehicle() {
        let app = spawn_app().await;
        let eb = two_enterprises(&app).await;
        let district = user(
            &app,
            "jinshui",
            "district_regulator",
            json!({"district_code": "410105"}),
        )
        .await;
        let city = user(&app, "city", "city_regulator", json!({})).await;
        let zone = |enterprise: Option<&str>| {
            let mut z = json!({"name": "禁行区", "kind": "restricted", "geometry": square(113.80, 34.80, 0.01)});
            if let Some(e) = enterprise {
                z["enterprise_code"] = json!(e);
            }
            z
        };
        let corridor = |enterprise: Option<&str>, plate: &str| {
            let mut c = json!({"name": "走廊", "kind": "corridor", "geometry": square(113.80, 34.80, 0.02),
                               "vehicle_plates": [plate]});
            if let Some(e) = enterprise {
                c["enterprise_code"] = json!(e);
            }
            c
        };
        let site = json!({"name": "B 场站", "kind": "site", "center": {"lon": 113.83, "lat": 34.805},
                          "radius_m": 300});
        let before = count(&app, "SELECT count(*) FROM geofences").await;
        // B's admin: no restricted zone (not even "for B"), no fence for every vehicle, no
        // corridor naming A's vehicle.
        for (body, field) in [
            (zone(Some("EB")), "kind"),
            (zone(None), "kind"),
            (corridor(None, "豫AEB001"), "enterprise_code"),
            (site.clone(), "enterprise_code"),
        ] {
            refused(
                &post_as(&app, &eb, "/api/v1/geofences", &body).await,
                403,
                "forbidden",
                field,
            );
        }
        refused(
            &post_as(
                &app,
                &eb,
                "/api/v1/geofences",
                &corridor(Some("EB"), "豫AEA001"),
            )
            .await,
            422,
            "unknown_reference",
            "vehicle_plates[0]",
        );
        // A district regulator draws nothing that binds the whole city.
        refused(
            &post_as(&app, &district, "/api/v1/geofences", &zone(None)).await,
            403,
            "forbidden",
            "kind",
        );
        assert_eq!(count(&app, "SELECT count(*) FROM geofences").await, before);
        // What each may draw.
        let mut b_site = site.clone();
        b_site["enterprise_code"] = json!("EB");
        for (token, body) in [
            (&eb, b_site),
            (&eb, corridor(Some("EB"), "豫AEB001")),
            (&city, zone(None)),
            (&city, zone(Some("EA"))),
            (&app.admin_token, corridor(None, "豫AEA001")),
        ] {
            let (status, answer) = post_as(&app, token, "/api/v1/geofences", &body).await;
            assert_eq!(status, 201, "{body}: {answer}");
        }
        assert_eq!(
            count(&app, "SELECT count(*) FROM geofences").await,
            before + 5
        );
    }

    /// Radius at most 5 km for stations and enterprises' fences (50 km for a regulator's
    /// city-wide circle), polygons closed, at most 2,000 vertices, not self-intersecting: else
    /// 422 naming the field, nothing written.
    #[tokio::test]
    async fn fence_and_station_shapes_are_bounded_and_valid() {
        let app = spawn_app().await;
        let eb = two_enterprises(&app).await;
        let circle = |radius: f64, enterprise: Option<&str>| {
            let mut c = json!({"name": "圈", "kind": "site", "center": {"lon": 113.83, "lat": 34.805},
                               "radius_m": radius});
            if let Some(e) = enterprise {
                c["enterprise_code"] = json!(e);
            }
            c
        };
        let many: Vec<Value> = (0..=2000)
            .map(|i| {
                let a = std::f64::consts::TAU * f64::from(i) / 2000.0;
                json!([113.8 + 0.01 * a.cos(), 34.8 + 0.01 * a.sin()])
            })
            .collect();
        let mut ring = many.clone();
        ring.push(many[0].clone());
        let bowtie = json!({"type": "Polygon", "coordinates": [[[113.80, 34.80], [113.81, 34.81],
            [113.81, 34.80], [113.80, 34.81], [113.80, 34.80]]]});
        let open = json!({"type": "Polygon", "coordinates": [[[113.80, 34.80], [113.81, 34.80],
            [113.81, 34.81], [113.80, 34.81]]]});
        let fence = |geometry: Value| {
            json!({"name": "形", "kind": "site", "geometry": geometry,
                                             "enterprise_code": "EB"})
        };
        let tables = "SELECT (SELECT count(*) FROM geofences) + (SELECT count(*) FROM stations)";
        let before = count(&app, tables).await;
        let mut far = station("EB-FAR", "EB", "远站", 113.66, 34.76);
        far["radius_m"] = json!(5001);
        let cases = [
            (
                &eb,
                "/api/v1/geofences",
                circle(5001.0, Some("EB")),
                "radius_m",
            ),
            (
                &app.admin_token,
                "/api/v1/geofences",
                circle(5001.0, Some("EB")),
                "radius_m",
            ),
            (
                &app.admin_token,
                "/api/v1/geofences",
                circle(50_001.0, None),
                "radius_m",
            ),
            (&eb, "/api/v1/stations", far, "radius_m"),
            (
                &eb,
                "/api/v1/geofences",
                fence(json!({"type": "Polygon", "coordinates": [ring]})),
                "geometry",
            ),
            (&eb, "/api/v1/geofences", fence(bowtie), "geometry"),
            (
                &eb,
                "/api/v1/geofences",
                fence(open),
                "geometry.coordinates[0]",
            ),
        ];
        for (token, path, body, field) in cases {
            let answer = post_as(&app, token, path, &body).await;
            refused(&answer, 422, "invalid_geometry", field);
        }
        assert_eq!(count(&app, tables).await, before);
        // At the limits, accepted.
        let mut ring = many[..1999].to_vec();
        ring.push(many[0].clone());
        for (token, path, body) in [
            (&eb, "/api/v1/geofences", circle(5000.0, Some("EB"))),
            (
                &app.admin_token,
                "/api/v1/geofences",
                circle(50_000.0, None),
            ),
            (
                &eb,
                "/api/v1/geofences",
                fence(json!({"type": "Polygon", "coordinates": [ring]})),
            ),
        ] {
            let (status, answer) = post_as(&app, token, path, &body).await;
            assert_eq!(status, 201, "{answer}");
        }
    }

    async fn position(app: &TestApp, plate: &str) -> Option<(f64, f64)> {
        sqlx::query_as(
            "SELECT ST_X(location), ST_Y(location) FROM vehicle_positions WHERE plate = $1",
        )
        .bind(plate)
        .fetch_optional(&app.db.pool)
        .await
        .unwrap()
    }

    async fn transitions(app: &TestApp, plate: &str) -> Vec<(String, String)> {
        sqlx::query_as(
            "SELECT fence, kind FROM fence_transitions WHERE plate = $1 ORDER BY occurred_at, kind",
        )
        .bind(plate)
        .fetch_all(&app.db.pool)
        .await
        .unwrap()
    }

    /// B's fences (its site, a restricted zone a regulator drew for B) give B's vehicle its
    /// transitions and alert, and A's vehicle on the same road none.
    #[tokio::test]
    async fn an_enterprises_fences_apply_to_its_own_vehicles_only() {
        let mut config = AppConfig::default();
        config
            .env
            .push(("CYLWATCH_FENCE_RELOAD_S".into(), "1".into()));
        let app = spawn_app_with(config, TestDb::new().await).await;
        let eb = two_enterprises(&app).await;
        let zone = json!({"name": "B 禁行区", "kind": "restricted", "enterprise_code": "EB",
                          "geometry": square(113.80, 34.80, 0.01)});
        let (status, answer) = app.post_json("/api/v1/geofences", &zone).await;
        assert_eq!(status, 201, "{answer}");
        let site = json!({"name": "B 场站", "kind": "site", "enterprise_code": "EB",
                          "center": {"lon": 113.83, "lat": 34.805}, "radius_m": 300});
        let (status, answer) = post_as(&app, &eb, "/api/v1/geofences", &site).await;
        assert_eq!(status, 201, "{answer}");
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        let t0 = chrono::Utc::now() - chrono::Duration::minutes(30);
        for (code, plate) in [("EA", "豫AEA001"), ("EB", "豫AEB001")] {
            let key = app.new_device(code, json!({"vehicle_plate": plate})).await;
            // West of the zone, in it, in B's site, east of both.
            for (i, lon) in [113.79, 113.805, 113.83, 113.86].into_iter().enumerate() {
                let at =
                    (t0 + chrono::Duration::seconds(30 * i64::try_from(i).unwrap())).to_rfc3339();
                let (status, answer) = app
                    .post_events_as(&key, &json!({"events": [gps(plate, lon, 34.805, &at)]}))
                    .await;
                assert_eq!(status, 202, "{answer}");
                app.wait_until(|| async { position(&app, plate).await == Some((lon, 34.805)) })
                    .await;
            }
        }
        // B's vehicle: in and out of both (the positions and the fence stage commit together).
        let b = transitions(&app, "豫AEB001").await;
        assert_eq!(
            b.iter().map(|(_, k)| k.as_str()).collect::<Vec<_>>(),
            ["enter", "enter", "exit", "exit"],
            "{b:?}"
        );
        assert_eq!(
            transitions(&app, "豫AEA001").await,
            Vec::<(String, String)>::new(),
            "A's vehicle in B's fences"
        );
        let (_, alerts) = app.get_json("/api/v1/alerts?kind=restricted_zone").await;
        let subjects: Vec<&str> = alerts["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["subject"]["id"].as_str())
            .collect();
        assert_eq!(subjects, ["豫AEB001"], "{alerts}");
    }

    /// A station's district is the one its point lies in (given or not); a customer's must be;
    /// a point outside every district is refused; nothing written.
    #[tokio::test]
    async fn a_sites_district_is_the_one_its_point_lies_in() {
        let app = spawn_app().await;
        let customer = |code: &str, lon: f64, lat: f64, district: &str| {
            json!({"code": code, "enterprise_code": "ENT1", "name": "顾客", "kind": "household",
                   "phone": "13800000000", "address": "金水路", "location": {"lon": lon, "lat": lat},
                   "district_code": district})
        };
        let mut hidden = station("ST-HIDDEN", "ENT1", "站", 113.66, 34.76);
        hidden["district_code"] = json!("000000");
        let mut next_door = station("ST-NEXT", "ENT1", "站", 113.66, 34.76);
        next_door["district_code"] = json!("410102");
        let tables = "SELECT (SELECT count(*) FROM stations) + (SELECT count(*) FROM customers)";
        let before = count(&app, tables).await;
        for (path, body, field) in [
            ("/api/v1/stations", hidden, "district_code"),
            ("/api/v1/stations", next_door, "district_code"),
            (
                "/api/v1/stations",
                station("ST-XM", "ENT1", "厦门站", 118.1, 24.6),
                "location",
            ),
            (
                "/api/v1/customers",
                customer("C-HIDDEN", 113.66, 34.76, "000000"),
                "district_code",
            ),
            (
                "/api/v1/customers",
                customer("C-XM", 118.1, 24.6, "350211"),
                "location",
            ),
        ] {
            refused(
                &app.post_json(path, &body).await,
                422,
                "district_mismatch",
                field,
            );
        }
        assert_eq!(count(&app, tables).await, before);
        let mut named = station("ST-NAMED", "ENT1", "站", 113.55, 34.75);
        named["district_code"] = json!("410102");
        for (path, body) in [
            (
                "/api/v1/stations",
                station("ST-J", "ENT1", "金水站", 113.66, 34.76),
            ),
            ("/api/v1/stations", named),
            (
                "/api/v1/customers",
                customer("C-J", 113.66, 34.76, "410105"),
            ),
        ] {
            let (status, answer) = app.post_json(path, &body).await;
            assert_eq!(status, 201, "{answer}");
        }
        let districts: Vec<(String, Option<String>)> = sqlx::query_as(
            "SELECT code, district_code FROM stations WHERE code LIKE 'ST-%' \
             UNION ALL SELECT code, district_code FROM customers ORDER BY 1",
        )
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
        let some = |c: &str, d: &str| (c.to_owned(), Some(d.to_owned()));
        assert_eq!(
            districts,
            [
                some("C-J", "410105"),
                some("ST-J", "410105"),
                some("ST-NAMED", "410102")
            ]
        );
    }

    /// How many `delivery_off_site` alerts the user with `token` sees.
    async fn seen(app: &TestApp, token: &str) -> usize {
        let (status, page) = app
            .send_json(
                Method::GET,
                "/api/v1/alerts?kind=delivery_off_site",
                None,
                Some(token),
            )
            .await;
        assert_eq!(status, 200, "{page}");
        page["items"].as_array().unwrap().len()
    }

    /// Rows from before (a `000000` that hid a site's alerts from its district's regulator) are
    /// recomputed at start from the base map, and the site's alerts move with them.
    #[tokio::test]
    async fn existing_sites_get_the_district_of_their_point_at_start() {
        let app = spawn_app().await;
        let customer = json!({"code": "C-J", "enterprise_code": "ENT1", "name": "顾客",
            "kind": "household", "phone": "13800000000", "address": "金水路",
            "location": {"lon": 113.66, "lat": 34.76}, "district_code": "410105"});
        assert_eq!(app.post_json("/api/v1/customers", &customer).await.0, 201);
        let s = station("ST-J", "ENT1", "金水站", 113.66, 34.76);
        assert_eq!(app.post_json("/api/v1/stations", &s).await.0, 201);
        // As the registry held them before: what the client claimed.
        for sql in [
            "DELETE FROM basemap_applied",
            "UPDATE customers SET district_code = '000000' WHERE code = 'C-J'",
            "UPDATE stations SET district_code = NULL WHERE code = 'ST-J'",
            "INSERT INTO alerts (id, kind, severity, subject_type, subject_id, enterprise_code, \
             district_code, opened_at, last_seen_at, evidence) VALUES (gen_random_uuid(), \
             'delivery_off_site', 'high', 'customer', 'C-J', 'ENT1', '000000', now(), now(), '{}')",
        ] {
            sqlx::query(sql).execute(&app.db.pool).await.unwrap();
        }
        let regulator = user(
            &app,
            "jinshui",
            "district_regulator",
            json!({"district_code": "410105"}),
        )
        .await;
        assert_eq!(seen(&app, &regulator).await, 0, "hidden before");
        let app = app.kill_and_restart().await;
        let districts: Vec<Option<String>> = sqlx::query_scalar(
            "SELECT district_code FROM customers WHERE code = 'C-J' \
             UNION ALL SELECT district_code FROM stations WHERE code = 'ST-J'",
        )
        .fetch_all(&app.db.pool)
        .await
        .unwrap();
        assert_eq!(
            districts,
            [Some("410105".to_owned()), Some("410105".to_owned())]
        );
        assert_eq!(
            seen(&app, &regulator).await,
            1,
            "the district's regulator sees the site's alert"
        );
    }
}
