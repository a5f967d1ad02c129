//! Names of the domain's states and operations in both languages. The Chinese names come from
//! `shared` wherever it has them, so the dashboard and the API never disagree.

use crate::i18n::{Key, Lang};
use crate::session::User;
use serde_json::Value;
use shared::alert::{AlertKind, AlertStatus, Severity};
use shared::auth::Role;
use shared::cylinder::{Compliance, Custody, ScanOp};
use shared::medium::Medium;

/// A compliance status as a supervisor reads it (more precise than the public 合格/过期/报废).
pub fn compliance(lang: Lang, c: Compliance) -> &'static str {
    let (zh, en) = match c {
        Compliance::Scrapped => ("已报废", "Scrapped"),
        Compliance::LifeExpired => ("超过设计使用年限", "Past its design life"),
        Compliance::InspectionOverdue => ("超期未检", "Inspection overdue"),
        Compliance::Unregistered => ("未办理使用登记", "No use registration"),
        Compliance::DueSoon => ("即将到期", "Inspection due soon"),
        Compliance::Ok => ("合格", "Compliant"),
    };
    pick(lang, zh, en)
}

/// A compliance status by its wire name, as the statistics' bars name it (short); an unknown
/// name as sent.
pub fn compliance_short(lang: Lang, name: &str) -> String {
    let (zh, en) = match name {
        "ok" => ("合格", "Compliant"),
        "due_soon" => ("即将到期", "Due soon"),
        "inspection_overdue" => ("逾期未检", "Overdue"),
        "life_expired" => ("超过设计使用年限", "Past design life"),
        "scrapped" => ("报废", "Scrapped"),
        "unregistered" => ("未登记", "Unregistered"),
        _ => return name.to_owned(),
    };
    pick(lang, zh, en).to_owned()
}

/// The order of the compliance statuses in the bars (API.md's order).
pub const COMPLIANCE_ORDER: [&str; 6] = [
    "ok",
    "due_soon",
    "inspection_overdue",
    "life_expired",
    "scrapped",
    "unregistered",
];

/// A custody state by its wire name; an unknown name as sent.
pub fn custody_name(lang: Lang, name: &str) -> String {
    Custody::from_name(name).map_or_else(|| name.to_owned(), |c| custody(lang, c).to_owned())
}

/// A medium by its code, as `medium` names it; an unknown code as sent.
pub fn medium_code(lang: Lang, code: &str) -> String {
    Medium::ALL
        .iter()
        .find(|m| m.code() == code)
        .map_or_else(|| code.to_owned(), |m| medium(lang, *m))
}

/// A custody state.
pub fn custody(lang: Lang, c: Custody) -> &'static str {
    let en = match c {
        Custody::InStockEmpty => "In stock, empty",
        Custody::InStockFull => "In stock, full",
        Custody::InTransitDelivery => "Out for delivery",
        Custody::AtCustomer => "At the customer",
        Custody::InTransitReturn => "Coming back empty",
        Custody::AtInspection => "At inspection",
        Custody::Scrapped => "Scrapped",
        Custody::Lost => "Lost",
    };
    pick(lang, c.label_zh(), en)
}

/// A scan operation.
pub fn scan_op(lang: Lang, op: ScanOp) -> &'static str {
    let en = match op {
        ScanOp::Fill => "Filling",
        ScanOp::StoreIn => "Stored in",
        ScanOp::StoreOut => "Taken out of store",
        ScanOp::Load => "Loaded onto vehicle",
        ScanOp::Unload => "Unloaded",
        ScanOp::Deliver => "Delivered (sale)",
        ScanOp::CollectEmpty => "Empty collected",
        ScanOp::ReturnIn => "Returned to store",
        ScanOp::SendInspection => "Sent for inspection",
        ScanOp::Inspect => "Inspected",
        ScanOp::Scrap => "Scrapped",
        ScanOp::Transfer => "Transfer",
    };
    pick(lang, op.label_zh(), en)
}

/// The 操作类型 of a history line. A scan names its operation; the other kinds are named by
/// kind, with what their `op` and `details` add (a check's stage and failure, an inspection's
/// scrap conclusion, a vehicle reader's on/off board).
pub fn operation(lang: Lang, kind: &str, op: Option<&str>, details: &Value) -> String {
    let op_name = op.unwrap_or_default();
    let base = match kind {
        "scan" => ScanOp::from_name(op_name).map(|o| scan_op(lang, o)),
        "check" => Some(check(lang, details["stage"].as_str().unwrap_or(op_name))),
        "inspection" => Some(pick(lang, "检验", "Inspection")),
        "ble" => Some(reader(lang, op_name)),
        "filling" => Some(pick(lang, "充装记录", "Filling record")),
        "archive" => Some(match op_name {
            "replace_tag" => pick(lang, "更换电子标签", "Tag replaced"),
            "change_owner" => pick(lang, "产权转移", "Ownership transferred"),
            _ => pick(lang, "档案变更", "Archive change"),
        }),
        _ => None,
    };
    // An operation or kind this build does not know yet: show it as sent.
    let Some(base) = base else {
        return op.unwrap_or(kind).to_owned();
    };
    let failed = details["passed"].as_bool() == Some(false);
    let scrapped = kind == "inspection"
        && (op_name == "scrap" || details["conclusion"].as_str() == Some("scrap"));
    let suffix = match (failed, scrapped) {
        (true, _) => pick(lang, "（不合格）", " (failed)"),
        (_, true) => pick(lang, "（报废）", " (scrap)"),
        _ => "",
    };
    format!("{base}{suffix}")
}

/// Why a history line is flagged, in words. The server says `<op> from <custody>`; that is
/// spelt out with the labels, anything else is shown as sent.
pub fn flag(lang: Lang, operation: &str, flag: &str) -> String {
    match flag
        .rsplit_once(" from ")
        .and_then(|(_, s)| Custody::from_name(s))
    {
        Some(before) => match lang {
            Lang::Zh => format!(
                "异常流转：气瓶处于「{}」时不应有「{operation}」",
                custody(lang, before)
            ),
            Lang::En => format!(
                "Irregular: {operation} while {}",
                custody(lang, before).to_lowercase()
            ),
        },
        None => flag.to_owned(),
    }
}

/// The operation of a public history item, which carries no kind: a scan's operation, a
/// check's stage or a vehicle reader's sighting (Chinese only, like the public page).
pub fn public_operation(op: &str) -> String {
    let label = match op {
        "pre" | "during" | "post" => check(Lang::Zh, op),
        "seen" | "left" => reader(Lang::Zh, op),
        "" => "—",
        _ => match ScanOp::from_name(op) {
            Some(o) => o.label_zh(),
            None => return op.to_owned(),
        },
    };
    label.to_owned()
}

fn check(lang: Lang, stage: &str) -> &'static str {
    match stage {
        "pre" => pick(lang, "充装前检查", "Pre-fill check"),
        "during" => pick(lang, "充装中检查", "In-fill check"),
        "post" => pick(lang, "充装后检查", "Post-fill check"),
        _ => pick(lang, "充装检查", "Filling check"),
    }
}

fn reader(lang: Lang, op: &str) -> &'static str {
    match op {
        "seen" => pick(lang, "车载识别（上车）", "Vehicle reader: on board"),
        "left" => pick(lang, "车载识别（下车）", "Vehicle reader: off board"),
        _ => pick(lang, "车载识别", "Vehicle reader"),
    }
}

/// A role (the Chinese label is `shared`'s).
pub fn role(lang: Lang, r: Role) -> &'static str {
    let en = match r {
        Role::Admin => "Administrator",
        Role::CityRegulator => "City regulator",
        Role::DistrictRegulator => "District regulator",
        Role::DutyOfficer => "Duty officer",
        Role::EnterpriseAdmin => "Enterprise administrator",
        Role::EnterpriseStaff => "Enterprise staff",
        Role::Display => "Command wall",
    };
    pick(lang, r.label_zh(), en)
}

/// What a user may see: one enterprise, one district, or the whole city.
pub fn scope(lang: Lang, user: &User) -> String {
    match (&user.enterprise_code, &user.district_code) {
        (Some(e), _) => format!("{} {e}", lang.t(Key::ScopeEnterprise)),
        (None, Some(d)) => format!("{} {d}", lang.t(Key::ScopeDistrict)),
        (None, None) => lang.t(Key::ScopeCity).to_owned(),
    }
}

/// A medium: its Chinese name and code, or its code alone in English.
pub fn medium(lang: Lang, m: Medium) -> String {
    match lang {
        Lang::Zh => format!("{}（{}）", m.name_zh(), m.code()),
        Lang::En => m.code().to_owned(),
    }
}

/// The filling rules in the order the station view charts them: R00 to R16, then E01 (the
/// platform could not check in time) and E02 (records not yet applied), both refusals.
pub const FILLING_RULES: [&str; 19] = [
    "R00", "R01", "R02", "R03", "R04", "R05", "R06", "R07", "R08", "R09", "R10", "R11", "R12",
    "R13", "R14", "R15", "R16", "E01", "E02",
];

/// What a filling rule refuses, in a few words; `None` for a code this build does not know.
pub fn filling_rule(lang: Lang, rule: &str) -> Option<&'static str> {
    let (zh, en) = match rule {
        "R00" => (
            "非法标签/未登记气瓶",
            "Unknown tag or unregistered cylinder",
        ),
        "R01" => ("充装许可证过期", "Filling licence expired"),
        "R02" => ("燃气经营许可证过期", "Gas business licence expired"),
        "R03" => ("未使用登记", "No use registration"),
        "R04" => ("超期未检", "Inspection overdue"),
        "R05" => ("超过使用年限", "Past its design life"),
        "R06" => ("已报废", "Scrapped"),
        "R07" => ("非本站登记", "Registered at another station"),
        "R08" => ("距上次充装不足24小时", "Filled less than 24 h ago"),
        "R09" => ("流转数据不全", "Incomplete custody records"),
        "R10" => (
            "无16小时内充装前检查合格记录",
            "No passed pre-fill check within 16 h",
        ),
        "R11" => ("介质不符", "Wrong medium"),
        "R12" => (
            "前次充装未录入复检记录",
            "No post-fill check after the last filling",
        ),
        "R13" => (
            "单位、站点或充装人员已暂停/注销",
            "Enterprise, station or filler suspended or closed",
        ),
        "R14" => (
            "充装人员无有效充装作业人员证",
            "Filler has no valid filling operator certificate",
        ),
        "R15" => (
            "介质不在充装许可范围内",
            "Medium outside the filling licence",
        ),
        "R16" => ("气瓶召回中", "Cylinder under recall"),
        "E01" => ("平台无法核验（拒绝）", "Platform could not check (refused)"),
        "E02" => (
            "记录尚未处理完（拒绝，请稍后重试）",
            "Records not yet applied (refused; retry shortly)",
        ),
        _ => return None,
    };
    Some(pick(lang, zh, en))
}

/// A rule's code and label (`R10 无16小时内充装前检查合格记录`), or the code alone when unknown.
pub fn filling_rule_line(lang: Lang, rule: &str) -> String {
    match filling_rule(lang, rule) {
        Some(label) => format!("{rule} {label}"),
        None => rule.to_owned(),
    }
}

/// Why a gun was refused, as the station view says it: in Chinese the server's own message
/// (it may name a date or a station), in English the rule's label (the message when the rule
/// is unknown to this build).
pub fn refusal(lang: Lang, rule: &str, message: &str) -> String {
    match (lang, filling_rule(lang, rule)) {
        (Lang::Zh, label) if message.is_empty() => label.unwrap_or_default().to_owned(),
        (Lang::Zh, _) | (Lang::En, None) => message.to_owned(),
        (Lang::En, Some(label)) => label.to_owned(),
    }
}

/// A refusal's tooltip: the rule's code and label, and in English also the server's message
/// (the text shows the label there).
pub fn refusal_title(lang: Lang, rule: &str, message: &str) -> String {
    let line = filling_rule_line(lang, rule);
    match lang {
        Lang::En if !message.is_empty() => format!("{line} · {message}"),
        _ => line,
    }
}

/// An alert kind, as the duty console names it.
pub fn alert_kind(lang: Lang, kind: AlertKind) -> &'static str {
    let (zh, en) = match kind {
        AlertKind::CylinderOverdue => ("气瓶超期未检", "Cylinder overdue for inspection"),
        AlertKind::CylinderLifeExpired => ("气瓶超过设计使用年限", "Cylinder past its design life"),
        AlertKind::CylinderScrappedInUse => ("报废气瓶仍在使用", "Scrapped cylinder in use"),
        AlertKind::OverweightStock => ("超量储存", "Stock over its limit"),
        AlertKind::FillingRefused => ("充装被拒绝", "Filling refused"),
        AlertKind::IllegalTag => ("非法标签", "Illegal tag"),
        AlertKind::Overfill => ("超装", "Overfill"),
        AlertKind::TareMismatch => ("皮重异常", "Tare mismatch"),
        AlertKind::DeliveryOffSite => ("非登记地点配送", "Delivery away from the customer"),
        AlertKind::UnloadedUnknownPlace => ("不明地点卸瓶", "Unloaded at an unknown place"),
        AlertKind::SuspiciousStop => ("可疑停留", "Suspicious stop"),
        AlertKind::RestrictedZone => ("进入禁行区域", "Entered a restricted zone"),
        AlertKind::CorridorExit => ("偏离规定路线", "Left its corridor"),
        AlertKind::ControlledMediumUnlicensed => {
            ("管控介质无资质流转", "Controlled medium without a licence")
        }
        AlertKind::StaffUncertified => ("人员无证作业", "Uncertified staff"),
        AlertKind::DeviceSilent => ("设备离线", "Device silent"),
        AlertKind::CylinderLost => ("气瓶疑似丢失", "Cylinder lost"),
        AlertKind::LateFillingRecord => ("充装记录迟报", "Late filling record"),
        AlertKind::ForeignCylinderFilling => {
            ("充装他人产权气瓶", "Filling another company's cylinder")
        }
        AlertKind::VehicleSuspended => ("停用车辆载瓶行驶", "Suspended vehicle carrying cylinders"),
        AlertKind::LicenceExpiring => ("证照即将到期", "Licence expiring"),
        AlertKind::LicenceExpired => ("证照已过期", "Licence expired"),
        AlertKind::VehicleEmergency => ("车辆紧急报警", "Vehicle emergency alarm"),
    };
    pick(lang, zh, en)
}

/// How urgent an alert is.
pub fn severity(lang: Lang, s: Severity) -> &'static str {
    let (zh, en) = match s {
        Severity::Critical => ("紧急", "Critical"),
        Severity::High => ("严重", "High"),
        Severity::Medium => ("较重", "Medium"),
        Severity::Low => ("一般", "Low"),
    };
    pick(lang, zh, en)
}

/// Where an alert is in its life.
pub fn alert_status(lang: Lang, s: AlertStatus) -> &'static str {
    let (zh, en) = match s {
        AlertStatus::Open => ("待处理", "Open"),
        AlertStatus::Acknowledged => ("已确认", "Acknowledged"),
        AlertStatus::Resolved => ("已解决", "Resolved"),
    };
    pick(lang, zh, en)
}

/// What kind of thing an alert is about (`cylinder`, `station` ...); an unknown type as sent.
pub fn subject_type(lang: Lang, kind: &str) -> String {
    let (zh, en) = match kind {
        "cylinder" => ("气瓶", "Cylinder"),
        "vehicle" => ("车辆", "Vehicle"),
        "station" => ("站点", "Station"),
        "customer" => ("用户", "Customer"),
        "warehouse" => ("仓库", "Warehouse"),
        "staff" => ("人员", "Staff"),
        "device" => ("设备", "Device"),
        "tag" => ("标签", "Tag"),
        "enterprise" => ("企业", "Enterprise"),
        _ => return kind.to_owned(),
    };
    pick(lang, zh, en).to_owned()
}

/// The evidence fields this build names, in the order the duty console lists them: what and
/// where first, then the measurements and times, the ids last.
const EVIDENCE_FIELDS: [(&str, &str, &str); 37] = [
    ("cylinder_code", "气瓶编号", "Cylinder"),
    ("tag_id", "电子标签号", "Tag"),
    ("station_code", "站点编号", "Station"),
    ("gun_no", "充装枪", "Gun"),
    ("medium", "介质", "Medium"),
    ("staff_no", "人员编号", "Staff no."),
    ("staff_name", "人员姓名", "Staff name"),
    ("reasons", "拒绝原因", "Reasons"),
    ("licence_kind", "证照类型", "Licence kind"),
    ("number", "证照编号", "Licence no."),
    ("valid_to", "有效期至", "Valid to"),
    ("days_left", "剩余天数", "Days left"),
    (
        "filled_despite_refusal",
        "拒绝后仍充装",
        "Filled despite refusal",
    ),
    (
        "inactive_station",
        "暂停/注销期间充装",
        "Filled while suspended or closed",
    ),
    ("station_status", "站点状态", "Station status"),
    ("enterprise_status", "单位状态", "Enterprise status"),
    ("net_kg", "充装量(kg)", "Net fill (kg)"),
    ("max_fill_kg", "允许充装量(kg)", "Allowed fill (kg)"),
    ("mass_before_kg", "充装前质量(kg)", "Mass before (kg)"),
    ("mass_after_kg", "充装后质量(kg)", "Mass after (kg)"),
    ("archived_tare_kg", "档案皮重(kg)", "Archived tare (kg)"),
    ("historical_tare_kg", "历史皮重(kg)", "Historical tare (kg)"),
    ("tolerance_kg", "允许偏差(kg)", "Tolerance (kg)"),
    ("late_s", "迟报时长(秒)", "Late by (s)"),
    ("limit_s", "时限(秒)", "Limit (s)"),
    ("started_at", "开始时间", "Started"),
    ("ended_at", "结束时间", "Ended"),
    ("received_at", "接收时间", "Received"),
    ("plate", "车牌号", "Vehicle"),
    ("lon", "经度", "Longitude"),
    ("lat", "纬度", "Latitude"),
    ("occurred_at", "发生时间", "Occurred"),
    ("count", "数量", "Count"),
    ("limit", "上限", "Limit"),
    ("decision_id", "充装判定编号", "Decision"),
    ("filling_id", "充装记录编号", "Filling record"),
    ("device_id", "设备编号", "Device"),
];

/// A field of an alert's evidence; `None` for a field this build does not know (shown as sent).
pub fn evidence_key(lang: Lang, key: &str) -> Option<&'static str> {
    let (_, zh, en) = EVIDENCE_FIELDS.iter().find(|(k, _, _)| *k == key)?;
    Some(pick(lang, zh, en))
}

/// Where an evidence field goes in the list; unknown fields after the known ones.
pub fn evidence_rank(key: &str) -> usize {
    EVIDENCE_FIELDS
        .iter()
        .position(|(k, _, _)| *k == key)
        .unwrap_or(EVIDENCE_FIELDS.len())
}

fn pick(lang: Lang, zh: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Zh => zh,
        Lang::En => en,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn operations_are_named_by_kind() {
        let none = Value::Null;
        assert_eq!(
            operation(Lang::Zh, "scan", Some("deliver"), &none),
            "销售扫描"
        );
        assert_eq!(operation(Lang::En, "scan", Some("fill"), &none), "Filling");
        let failed = json!({"stage": "pre", "passed": false});
        assert_eq!(
            operation(Lang::Zh, "check", Some("pre"), &failed),
            "充装前检查（不合格）"
        );
        // An inspection's op is its conclusion, not the scan operation `scrap`.
        assert_eq!(
            operation(Lang::Zh, "inspection", Some("scrap"), &none),
            "检验（报废）"
        );
        assert_eq!(
            operation(Lang::Zh, "inspection", Some("pass"), &none),
            "检验"
        );
        assert_eq!(
            operation(Lang::Zh, "ble", Some("seen"), &none),
            "车载识别（上车）"
        );
        assert_eq!(
            operation(Lang::Zh, "archive", Some("replace_tag"), &none),
            "更换电子标签"
        );
        assert_eq!(
            operation(Lang::En, "archive", Some("replace_tag"), &none),
            "Tag replaced"
        );
        assert_eq!(
            operation(Lang::Zh, "archive", Some("change_owner"), &none),
            "产权转移"
        );
        assert_eq!(
            operation(Lang::En, "archive", Some("change_owner"), &none),
            "Ownership transferred"
        );
        assert_eq!(operation(Lang::Zh, "teleport", Some("beam"), &none), "beam");
        assert_eq!(public_operation("return_in"), "回瓶入库");
        assert_eq!(public_operation("post"), "充装后检查");
        assert_eq!(public_operation(""), "—");
    }

    #[test]
    fn flags_are_spelt_out() {
        assert_eq!(
            flag(Lang::Zh, "销售扫描", "deliver from in_stock_empty"),
            "异常流转：气瓶处于「在库空瓶」时不应有「销售扫描」"
        );
        assert_eq!(
            flag(Lang::En, "Delivered (sale)", "deliver from at_customer"),
            "Irregular: Delivered (sale) while at the customer"
        );
        assert_eq!(flag(Lang::Zh, "充装", "something else"), "something else");
    }

    #[test]
    fn every_charted_rule_has_a_label_in_both_languages() {
        for rule in FILLING_RULES {
            assert!(filling_rule(Lang::Zh, rule).is_some(), "{rule}");
            assert!(filling_rule(Lang::En, rule).is_some(), "{rule}");
        }
        assert_eq!(filling_rule(Lang::Zh, "R00"), Some("非法标签/未登记气瓶"));
        assert_eq!(
            filling_rule_line(Lang::Zh, "R10"),
            "R10 无16小时内充装前检查合格记录"
        );
        assert_eq!(
            filling_rule_line(Lang::En, "E01"),
            "E01 Platform could not check (refused)"
        );
        assert_eq!(filling_rule_line(Lang::En, "R99"), "R99");
        let message = "下次检验日期 2025-01-01 已过";
        assert_eq!(refusal(Lang::Zh, "R04", message), message);
        assert_eq!(refusal(Lang::En, "R04", message), "Inspection overdue");
        assert_eq!(refusal(Lang::En, "R99", "新规则"), "新规则");
        assert_eq!(refusal(Lang::Zh, "R06", ""), "已报废");
        assert_eq!(
            refusal_title(Lang::En, "R04", message),
            "R04 Inspection overdue · 下次检验日期 2025-01-01 已过"
        );
        assert_eq!(refusal_title(Lang::Zh, "R04", message), "R04 超期未检");
    }

    #[test]
    fn roles_and_scopes_read_in_both_languages() {
        assert_eq!(role(Lang::Zh, Role::Admin), "系统管理员");
        assert_eq!(role(Lang::En, Role::DutyOfficer), "Duty officer");
        let mut user = User {
            username: "zhang".into(),
            role: Role::EnterpriseAdmin,
            enterprise_code: Some("ENT1".into()),
            district_code: Some("410105".into()),
        };
        assert_eq!(scope(Lang::Zh, &user), "企业 ENT1");
        user.enterprise_code = None;
        assert_eq!(scope(Lang::En, &user), "District 410105");
        user.district_code = None;
        assert_eq!(scope(Lang::Zh, &user), "全市");
        assert_eq!(scope(Lang::En, &user), "Whole city");
    }

    #[test]
    fn every_alert_kind_has_its_own_label_in_both_languages() {
        for lang in [Lang::Zh, Lang::En] {
            let mut seen = std::collections::HashSet::new();
            for kind in AlertKind::ALL {
                assert!(seen.insert(alert_kind(lang, kind)), "{kind:?}");
            }
        }
        assert_eq!(alert_kind(Lang::Zh, AlertKind::IllegalTag), "非法标签");
        assert_eq!(severity(Lang::Zh, Severity::Critical), "紧急");
        assert_eq!(
            alert_status(Lang::En, AlertStatus::Acknowledged),
            "Acknowledged"
        );
        assert_eq!(subject_type(Lang::Zh, "station"), "站点");
        assert_eq!(subject_type(Lang::Zh, "ship"), "ship");
        assert_eq!(evidence_key(Lang::Zh, "tag_id"), Some("电子标签号"));
        assert_eq!(evidence_key(Lang::En, "whatever"), None);
        assert!(evidence_rank("cylinder_code") < evidence_rank("decision_id"));
        assert_eq!(evidence_rank("whatever"), evidence_rank("something else"));
    }
}
