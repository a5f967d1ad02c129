//! The registry's fields and values as the directory and profile pages name them, Chinese
//! first: one table of field labels (also what an error naming a field says), record statuses,
//! staff roles, station and customer kinds. A field the server adds shows under its own name
//! until it gets a label here.

use crate::i18n::Lang;
use serde_json::Value;

/// The registry's fields: (name, 中文, English).
const FIELDS: [(&str, &str, &str); 38] = [
    ("code", "编号", "Code"),
    ("name", "名称", "Name"),
    ("credit_code", "统一社会信用代码", "Credit code"),
    ("address", "地址", "Address"),
    ("district_code", "行政区", "District"),
    ("enterprise_code", "企业", "Enterprise"),
    ("status", "状态", "Status"),
    ("status_reason", "状态原因", "Status reason"),
    ("version", "版本", "Version"),
    ("media", "充装介质", "Media"),
    ("filling_licence", "气瓶充装许可证", "Filling licence"),
    ("filling_licence_no", "充装许可证号", "Filling licence no."),
    (
        "filling_licence_valid_from",
        "充装许可证生效日期",
        "Filling licence valid from",
    ),
    (
        "filling_licence_expires",
        "充装许可证有效期至",
        "Filling licence valid to",
    ),
    ("gas_licence", "燃气经营许可证", "Gas licence"),
    ("gas_licence_no", "燃气经营许可证号", "Gas licence no."),
    (
        "gas_licence_expires",
        "燃气经营许可证有效期至",
        "Gas licence valid to",
    ),
    ("kind", "类型", "Kind"),
    ("location", "位置", "Location"),
    ("radius_m", "围栏半径（米）", "Radius (m)"),
    ("full_stock_limit", "满瓶库存上限", "Full stock limit"),
    ("staff_no", "工号", "Staff no."),
    ("role", "岗位", "Role"),
    ("certificate_no", "证书编号", "Certificate no."),
    (
        "certificate_expires",
        "证书有效期至",
        "Certificate valid to",
    ),
    ("certificates", "资格证书", "Certificates"),
    ("plate", "车牌", "Plate"),
    ("gps_device_id", "定位终端", "GPS device"),
    ("reader_device_id", "读写终端", "Reader"),
    (
        "transport_permit_no",
        "道路运输证号",
        "Transport permit no.",
    ),
    (
        "transport_permit_expires",
        "道路运输证有效期至",
        "Transport permit valid to",
    ),
    ("phone", "电话", "Phone"),
    ("licence_no", "许可证号", "Licence no."),
    ("licence_expires", "许可证有效期至", "Licence valid to"),
    ("opened_at", "开户时间", "Opened"),
    ("username", "用户名", "User name"),
    ("document_ref", "证明文件", "Document"),
    ("reason", "原因", "Reason"),
];

/// A registry field's label, if it has one.
pub fn label(lang: Lang, field: &str) -> Option<&'static str> {
    FIELDS
        .iter()
        .find(|(name, _, _)| *name == field)
        .map(|(_, zh, en)| pick(lang, zh, en))
}

/// A field's label, or its name as sent.
pub fn label_or_name(lang: Lang, field: &str) -> String {
    label(lang, field).map_or_else(|| field.to_owned(), str::to_owned)
}

/// A record status (`active`, `suspended`, `closed`) in words.
pub fn status(lang: Lang, name: &str) -> String {
    let (zh, en) = match name {
        "active" => ("正常", "active"),
        "suspended" => ("暂停", "suspended"),
        "closed" => ("注销", "closed"),
        other => return other.to_owned(),
    };
    pick(lang, zh, en).to_owned()
}

/// A wire value of a kind-like field (a staff role, a station's or customer's kind) in words,
/// or as sent.
pub fn value(lang: Lang, field: &str, name: &str) -> String {
    let (zh, en) = match (field, name) {
        ("role", "filler") => ("充装工", "filler"),
        ("role", "driver") => ("驾驶员", "driver"),
        ("role", "escort") => ("押运员", "escort"),
        ("role", "warehouse") => ("库管员", "warehouse"),
        ("role", "inspector") => ("检验员", "inspector"),
        ("role", "repair") => ("维修工", "repair"),
        ("kind", "filling") => ("充装站", "filling"),
        ("kind", "distribution") => ("配送站", "distribution"),
        ("kind", "warehouse") => ("仓库", "warehouse"),
        ("kind", "inspection") => ("检验站", "inspection"),
        ("kind", "household") => ("居民", "household"),
        ("kind", "restaurant") => ("餐饮", "restaurant"),
        ("kind", "industrial") => ("工业", "industrial"),
        ("kind", "filling_operator") => ("充装作业人员证", "filling operator"),
        ("kind", "hazmat_transport") => ("危险货物运输从业资格证", "dangerous goods transport"),
        ("status", s) => return status(lang, s),
        _ => return name.to_owned(),
    };
    pick(lang, zh, en).to_owned()
}

/// A JSON value of a record as text: strings as they are (kinds and statuses in words), a
/// list joined, a point as `lon, lat`, nothing as a dash.
pub fn text(lang: Lang, field: &str, v: &Value) -> String {
    match v {
        Value::Null => "—".to_owned(),
        Value::String(s) => value(lang, field, s),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(|i| text(lang, field, i)).collect();
            if parts.is_empty() {
                "—".to_owned()
            } else {
                parts.join(", ")
            }
        }
        Value::Object(o) => match (o.get("lon"), o.get("lat")) {
            (Some(lon), Some(lat)) => format!("{lon}, {lat}"),
            _ => v.to_string(),
        },
    }
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
    fn fields_and_values_read_in_both_languages() {
        assert_eq!(
            label(Lang::Zh, "filling_licence_expires"),
            Some("充装许可证有效期至")
        );
        assert_eq!(label_or_name(Lang::En, "colour"), "colour");
        assert_eq!(value(Lang::Zh, "role", "filler"), "充装工");
        assert_eq!(value(Lang::Zh, "role", "escort"), "押运员");
        assert_eq!(
            value(Lang::Zh, "kind", "hazmat_transport"),
            "危险货物运输从业资格证"
        );
        assert_eq!(status(Lang::Zh, "suspended"), "暂停");
        assert_eq!(text(Lang::Zh, "media", &json!(["LPG", "CNG"])), "LPG, CNG");
        assert_eq!(
            text(Lang::En, "location", &json!({"lon": 113.6, "lat": 34.7})),
            "113.6, 34.7"
        );
        assert_eq!(text(Lang::Zh, "x", &Value::Null), "—");
        let names: std::collections::BTreeSet<&str> = FIELDS.iter().map(|f| f.0).collect();
        assert_eq!(names.len(), FIELDS.len(), "each field once");
    }
}
