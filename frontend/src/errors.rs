//! What the user reads when a call failed: the server's error code, and the field it names, in
//! the user's language. The server's message is English written for developers; it is shown
//! only in English (where it is the most precise sentence there is) and for a code newer than
//! this build. Every `ErrorCode` is matched here without a wildcard, so a new code does not
//! compile until it is translated.

use crate::i18n::{Key, Lang};
use crate::labels;
use crate::services::api::{ApiError, ServerError};
use shared::ErrorCode;

/// A failed call in words.
pub fn describe(lang: Lang, e: &ApiError) -> String {
    match e {
        ApiError::Server { body: Some(b), .. } => server(lang, b),
        ApiError::Server { status, body: None } => match lang {
            Lang::Zh => format!("服务器返回错误（HTTP {status}）"),
            Lang::En => format!("The server answered HTTP {status}"),
        },
        ApiError::Network(_) => lang.t(Key::LoginNetwork).to_owned(),
        ApiError::Decode(_) => pick(
            lang,
            "服务器的应答无法识别，请刷新页面",
            "The server's answer was not understood: reload the page",
        )
        .to_owned(),
    }
}

/// `what` failed, and why: `操作失败：「处置说明」未填写或不符合要求`.
pub fn failed(lang: Lang, what: Key, e: &ApiError) -> String {
    format!("{}{}{}", lang.t(what), colon(lang), describe(lang, e))
}

/// The colon between a heading and what follows, as each language writes it.
pub fn colon(lang: Lang) -> &'static str {
    pick(lang, "：", ": ")
}

fn server(lang: Lang, b: &ServerError) -> String {
    match (lang, b.code) {
        (Lang::En, Some(_)) | (_, None) if !b.message.is_empty() => b.message.clone(),
        (_, Some(code)) => code_text(lang, code, b.field.as_deref()),
        (_, None) => b.name.clone(),
    }
}

/// What an error code means to the user, naming the field (by its label where there is one)
/// for the codes that are about a field.
pub fn code_text(lang: Lang, code: ErrorCode, field: Option<&str>) -> String {
    use ErrorCode as C;
    let (zh, en) = match (code, field) {
        (C::MalformedBody, _) => ("提交的内容格式有误", "The request was not understood"),
        (C::PayloadTooLarge, _) => ("提交的内容过大", "The request is too large"),
        (C::UnsupportedMediaType, _) => (
            "提交的内容类型不受支持",
            "The request's content type is not accepted",
        ),
        (C::InvalidBatchSize, _) => ("批量条数超出允许范围", "Too few or too many items at once"),
        (C::AllEventsRejected, _) => ("所有事件均被拒绝", "Every event was rejected"),
        (C::MissingField, Some(_)) => ("缺少「{field}」", "{field} is missing"),
        (C::MissingField, None) => ("缺少必填项", "A required field is missing"),
        (C::InvalidField, Some(_)) => (
            "「{field}」未填写或不符合要求",
            "{field} is missing or not valid",
        ),
        (C::InvalidField, None) => ("填写的内容不符合要求", "A value is not valid"),
        (C::UnknownField, Some(_)) => (
            "「{field}」不是可识别的字段",
            "{field} is not a known field",
        ),
        (C::UnknownField, None) => ("包含无法识别的字段", "A field is not known"),
        (C::UnknownKind, _) => ("未知的事件类型", "Unknown event kind"),
        (C::UnsupportedKind, _) => ("暂不支持该事件类型", "This event kind is not accepted yet"),
        (C::Unauthorized, _) => (
            "登录已失效，请重新登录",
            "The session has ended: sign in again",
        ),
        (C::Forbidden, _) => ("您的角色无权执行此操作", "Your role may not do this"),
        (C::InvalidCredentials, _) => return lang.t(Key::LoginInvalid).to_owned(),
        (C::AccountLocked, _) => return lang.t(Key::LoginLocked).to_owned(),
        (C::RateLimited, _) => (
            "请求过于频繁，请稍后再试",
            "Too many requests: try again later",
        ),
        (C::RequestTimeout, _) => (
            "请求内容未能及时送达，请检查网络后重试",
            "The request did not arrive in time: check the network and retry",
        ),
        (C::WeakPassword, _) => (
            "密码强度不足，请使用更长且更复杂的密码",
            "The password is too weak: use a longer, more varied one",
        ),
        (C::NotFound, _) => return lang.t(Key::ScopeNotFound).to_owned(),
        (C::AlreadyExists, _) => ("该记录已存在", "It exists already"),
        (C::UnknownReference, Some(_)) => (
            "「{field}」指向的记录不存在",
            "{field} names a record that does not exist",
        ),
        (C::UnknownReference, None) => ("引用的记录不存在", "A record it names does not exist"),
        (C::TagVoid, _) => (
            "该电子标签已作废，不能再次绑定",
            "This tag is void (its cylinder was scrapped)",
        ),
        (C::InvalidRows, _) => (
            "部分行有误，未写入任何记录",
            "Some rows are not valid: nothing was written",
        ),
        (C::MethodNotAllowed, _) => ("不支持该操作", "This operation is not supported here"),
        (C::InvalidTransition, _) => (
            "当前状态不允许此操作（可能已被他人处理）",
            "Not possible in its current state (someone may have handled it already)",
        ),
        (C::InvalidQuery, Some(_)) => (
            "查询条件「{field}」有误",
            "The query's {field} is not valid",
        ),
        (C::InvalidQuery, None) => ("查询条件有误", "The query is not valid"),
        (C::InvalidGeometry, Some(_)) => (
            "「{field}」的范围或形状不符合要求（半径过大、顶点过多或边界自相交）",
            "{field} is not an allowed shape (radius too large, too many vertices or a self-intersecting boundary)",
        ),
        (C::InvalidGeometry, None) => (
            "范围或形状不符合要求",
            "The shape is not allowed",
        ),
        (C::DistrictMismatch, Some(_)) => (
            "「{field}」与位置所在的行政区不符（或位置不在任何行政区内）",
            "{field} does not match the district the location lies in (or the location is in no district)",
        ),
        (C::DistrictMismatch, None) => (
            "行政区与位置不符",
            "The district does not match the location",
        ),
        (C::ServiceUnavailable, _) => (
            "服务暂时不可用，请稍后重试",
            "The service is unavailable for a moment: retry later",
        ),
        (C::ForeignStaff, _) => (
            "该工号不属于本企业的登记人员",
            "That staff number is not one of your enterprise's staff",
        ),
        (C::SelfInspection, _) => (
            "检验机构不得检验本企业自有的气瓶",
            "An inspection body may not inspect its own enterprise's cylinders",
        ),
        (C::VersionRequired, _) => (
            "缺少版本号，请重新打开记录后再保存",
            "The record's version is missing: open it again, then save",
        ),
        (C::VersionStale, _) => (
            "该记录已被他人修改，请刷新后核对再保存",
            "Someone changed this record since you opened it: reload, check, then save",
        ),
        (C::RecordInactive, _) => (
            "该记录已暂停或注销，不能修改或使用",
            "This record is suspended or closed: it cannot be changed or used",
        ),
        (C::Internal, _) => (
            "服务器内部错误，请稍后重试或联系管理员",
            "Something failed on the server: retry, or tell the administrator",
        ),
    };
    let text = pick(lang, zh, en);
    match field {
        Some(f) if text.contains("{field}") => text.replace("{field}", &field_label(lang, f)),
        _ => text.to_owned(),
    }
}

/// A field of a request by its label; a path (`items[3].tare_kg`) by its last name; a field
/// without a label as sent.
pub fn field_label(lang: Lang, field: &str) -> String {
    let last = field.rsplit('.').next().unwrap_or(field);
    let last = last.split('[').next().unwrap_or(last);
    let key = match last {
        "note" => Key::Note,
        "username" => Key::Username,
        "password" => Key::Password,
        "code" | "cylinder_code" => Key::FieldCode,
        "tag_id" => Key::FieldTag,
        "medium" => Key::FieldMedium,
        "tare_kg" => Key::FieldTare,
        "volume_l" => Key::FieldVolume,
        "working_pressure_mpa" => Key::FieldWorkingPressure,
        "test_pressure_mpa" => Key::FieldTestPressure,
        "wall_thickness_mm" => Key::FieldWallThickness,
        "max_fill_kg" => Key::FieldMaxFill,
        "design_life_years" => Key::FieldDesignLife,
        "manufacturer" => Key::FieldManufacturer,
        "manufactured_on" => Key::FieldManufactured,
        "product_standard" => Key::FieldStandard,
        "manufacture_licence_no" => Key::FieldManufactureLicence,
        "last_inspected_on" => Key::FieldLastInspected,
        "next_inspection_on" => Key::FieldNextInspection,
        "registration_no" => Key::FieldRegistrationNo,
        "registered_on" => Key::FieldRegisteredOn,
        "registration_authority" => Key::FieldRegistrationAuthority,
        "serial_no" => Key::FieldSerialNo,
        "production_batch" => Key::FieldProductionBatch,
        "owner_enterprise_code" => Key::FieldOwner,
        "date" => Key::Date,
        _ => {
            let (zh, en) = match last {
                "station_code" => ("站点编号", "Station code"),
                "enterprise_code" => ("企业编号", "Enterprise code"),
                "district_code" => ("区县代码", "District code"),
                "items" => ("明细", "Items"),
                "events" => ("事件", "Events"),
                "kind" => ("类型", "Kind"),
                "place" => ("地点", "Place"),
                "unit_code" => ("处置单位", "Responder unit"),
                _ => {
                    return crate::record_fields::label(lang, last)
                        .or_else(|| labels::evidence_key(lang, last))
                        .map_or_else(|| field.to_owned(), str::to_owned)
                }
            };
            return pick(lang, zh, en).to_owned();
        }
    };
    lang.t(key).to_owned()
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

    fn server_error(code: &str, message: &str, field: Option<&str>) -> ApiError {
        let mut detail = serde_json::json!({"code": code, "message": message});
        if let Some(f) = field {
            detail["field"] = f.into();
        }
        ApiError::Server {
            status: 400,
            body: ServerError::from_json(&serde_json::json!({ "error": detail })),
        }
    }

    #[test]
    fn a_refusal_reads_in_chinese_from_its_code_and_field() {
        let e = server_error(
            "invalid_field",
            "acknowledging a critical alert takes a note",
            Some("note"),
        );
        assert_eq!(e.code(), Some(ErrorCode::InvalidField));
        assert_eq!(describe(Lang::Zh, &e), "「处置说明」未填写或不符合要求");
        assert_eq!(
            failed(Lang::Zh, Key::ActionFailed, &e),
            "操作失败：「处置说明」未填写或不符合要求"
        );
        assert_eq!(
            describe(Lang::En, &e),
            "acknowledging a critical alert takes a note"
        );
        assert_eq!(
            failed(Lang::En, Key::ActionFailed, &e),
            "Failed: acknowledging a critical alert takes a note"
        );
    }

    #[test]
    fn fields_are_named_by_their_labels_or_as_sent() {
        assert_eq!(field_label(Lang::Zh, "items[3].tare_kg"), "气瓶质量(kg)");
        assert_eq!(field_label(Lang::En, "station_code"), "Station code");
        assert_eq!(field_label(Lang::Zh, "gun_no"), "充装枪");
        assert_eq!(field_label(Lang::Zh, "cell_deg"), "cell_deg");
        let e = server_error("unknown_reference", "no such station", Some("station_code"));
        assert_eq!(describe(Lang::Zh, &e), "「站点编号」指向的记录不存在");
        let e = server_error("invalid_query", "bad", None);
        assert_eq!(describe(Lang::Zh, &e), "查询条件有误");
    }

    #[test]
    fn the_incident_forms_fields_are_named_in_chinese_then_english() {
        let e = server_error(
            "invalid_field",
            "the place lies outside the city",
            Some("place"),
        );
        assert_eq!(describe(Lang::Zh, &e), "「地点」未填写或不符合要求");
        assert_eq!(e.field(), Some("place"));
        let e = server_error("invalid_field", "phone: 3 to 32 digits", Some("phone"));
        assert_eq!(describe(Lang::Zh, &e), "「电话」未填写或不符合要求");
        assert_eq!(field_label(Lang::En, "place"), "Place");
        assert_eq!(field_label(Lang::Zh, "unit_code"), "处置单位");
        assert_eq!(field_label(Lang::En, "unit_code"), "Responder unit");
    }

    #[test]
    fn the_server_message_is_shown_for_an_unknown_code_or_in_english() {
        let e = server_error("quota_exceeded", "the quota of today is used up", None);
        assert_eq!(e.code(), None);
        assert_eq!(e.name(), "quota_exceeded");
        assert_eq!(describe(Lang::Zh, &e), "the quota of today is used up");
        let e = server_error("quota_exceeded", "", None);
        assert_eq!(describe(Lang::Zh, &e), "quota_exceeded");
        // A known code without a message: the code's English.
        let e = server_error("forbidden", "", None);
        assert_eq!(describe(Lang::En, &e), "Your role may not do this");
        assert_eq!(describe(Lang::Zh, &e), "您的角色无权执行此操作");
    }

    #[test]
    fn failures_without_a_body_read_in_both_languages() {
        let e = ApiError::Server {
            status: 502,
            body: None,
        };
        assert_eq!(e.name(), "http_502");
        assert_eq!(describe(Lang::Zh, &e), "服务器返回错误（HTTP 502）");
        let e = ApiError::Network("refused".into());
        assert!(describe(Lang::Zh, &e).contains("无法连接服务器"));
        assert!(!describe(Lang::Zh, &ApiError::Decode("eof".into())).contains("eof"));
    }

    #[test]
    fn every_code_has_chinese_of_its_own() {
        let codes = ErrorCode::ALL;
        let mut seen = std::collections::HashSet::new();
        for code in codes {
            for field in [None, Some("note")] {
                let zh = code_text(Lang::Zh, code, field);
                assert!(!zh.is_ascii() && !zh.contains("{field}"), "{code:?}: {zh}");
                assert!(!code_text(Lang::En, code, field).contains("{field}"));
            }
            assert!(seen.insert(code_text(Lang::Zh, code, None)), "{code:?}");
        }
    }
}
