//! The injected incident (issue 22): a leak reported by phone at a customer holding one of the
//! simulated cylinders, opened through the API by a duty officer the simulator registers, so
//! that the demo's console and wall show one.

use crate::cycle::Sim;
use anyhow::Context;
use cylwatch_client::Client;
use rand::Rng;
use shared::auth::{NewUser, Role};
use shared::incident::{Caller, IncidentKind, IncidentLevel, NewIncident};
use shared::GeoPoint;

/// Opens the incident: the first customer (in the city's order) that holds a cylinder now,
/// with a caller; its id. `None` when no customer holds one.
pub async fn inject(sim: &mut Sim, base: &str) -> anyhow::Result<Option<uuid::Uuid>> {
    let Some(k) = (0..sim.w.customers.len()).find(|&k| !sim.at_customer[k].is_empty()) else {
        return Ok(None);
    };
    let c = sim.at_customer[k][0];
    let customer = &sim.w.customers[k];
    let code = sim.w.cylinders[c].code.clone();
    // The duty officer (值班员) who takes the call: an account of this run.
    let run = uuid::Uuid::new_v4().simple().to_string();
    let username = format!("sim-duty-{}", &run[..8]);
    let password = format!("Duty-{}-9z", &run[8..24]);
    let user = NewUser {
        username: username.clone(),
        password: password.clone(),
        role: Role::DutyOfficer,
        enterprise_code: None,
        district_code: None,
    };
    sim.api
        .client
        .create_user(&user)
        .await
        .context("registering the simulated duty officer")?;
    let duty = Client::new(base)
        .context("building the duty officer's client")?
        .sign_in(&username, &password)
        .await
        .context("signing in as the simulated duty officer")?;
    let phone = format!("139{:08}", sim.rng.random_range(0..100_000_000u32));
    let incident = NewIncident {
        kind: IncidentKind::Leak,
        level: IncidentLevel::General,
        description: format!(
            "用户 {} 来电：厨房闻到燃气味，钢瓶 {code} 疑似泄漏（模拟）",
            customer.code
        ),
        cylinder_code: Some(code),
        tag_id: None,
        serial_no: None,
        place: GeoPoint::new(customer.at.0, customer.at.1).ok(),
        alert_id: None,
        caller: Some(Caller {
            name: "报警人（模拟）".to_owned(),
            phone,
        }),
    };
    let opened = duty
        .open_incident(&incident)
        .await
        .context("opening the simulated incident")?;
    tracing::info!(id = %opened.id, customer = %customer.code, "incident injected");
    Ok(Some(opened.id))
}
