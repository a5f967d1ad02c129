//! The one list of error codes, each with its HTTP status and stable snake_case name, and the
//! JSON error body every 4xx/5xx carries.

use serde::{Deserialize, Serialize};

/// Every error the API can answer with. The `name` is part of the contract: never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The body is not JSON, or not the JSON the endpoint expects.
    MalformedBody,
    /// The body is larger than the endpoint accepts.
    PayloadTooLarge,
    /// The request's content type is not the one the endpoint accepts.
    UnsupportedMediaType,
    /// A batch has fewer or more items than allowed.
    InvalidBatchSize,
    /// Every item of a batch was rejected; see `rejected`.
    AllEventsRejected,
    /// A field is missing.
    MissingField,
    /// A field has the wrong type or an impossible value.
    InvalidField,
    /// A field the endpoint does not know.
    UnknownField,
    /// An event `kind` that is not in the contract.
    UnknownKind,
    /// An event kind in the contract that this server does not accept yet.
    UnsupportedKind,
    /// No valid credentials (token or device key) came with the request.
    Unauthorized,
    /// The credentials are good but the role may not do this.
    Forbidden,
    /// Wrong username or password.
    InvalidCredentials,
    /// Too many failed logins: the account is locked for a while.
    AccountLocked,
    /// Too many requests from one address; retry later.
    RateLimited,
    /// The request's body did not arrive in time.
    RequestTimeout,
    /// A new password does not meet the policy.
    WeakPassword,
    /// Nothing at that path.
    NotFound,
    /// A record with that code (or a cylinder with that tag) exists already.
    AlreadyExists,
    /// A field names a record that does not exist (an enterprise, a station ...).
    UnknownReference,
    /// A scrapped cylinder's tag: void forever, never bound again.
    TagVoid,
    /// Some rows of an import or items of a batch are bad; none was written.
    InvalidRows,
    /// The path exists but not for that method.
    MethodNotAllowed,
    /// The record is not in a state that allows this (an alert already resolved ...).
    InvalidTransition,
    /// A query string that cannot be parsed.
    InvalidQuery,
    /// A shape that is not allowed: a radius too large, a polygon with too many vertices, an
    /// open ring or a self-intersection.
    InvalidGeometry,
    /// A district code that is not the district the place's point lies in, or a point outside
    /// every district of the base map.
    DistrictMismatch,
    /// A dependency (PostgreSQL, Redis) is unavailable.
    ServiceUnavailable,
    /// Something failed that should not have; the server log has the context.
    Internal,
    /// A staff number (工号) registered to another enterprise, not to the writer's.
    ForeignStaff,
    /// An inspection of a cylinder of the inspection body's own enterprise: an enterprise never
    /// inspects its own cylinders.
    SelfInspection,
    /// A change of a versioned record (`PATCH`) came without `If-Match: <version>`.
    VersionRequired,
    /// `If-Match` names a version that is no longer the record's: someone changed it since it
    /// was read. Read it again, then decide.
    VersionStale,
    /// The record is suspended or closed: it is not edited or used (only what reinstates it).
    RecordInactive,
}

impl ErrorCode {
    /// The HTTP status this code is answered with.
    pub fn http_status(self) -> u16 {
        match self {
            Self::MalformedBody
            | Self::InvalidBatchSize
            | Self::MissingField
            | Self::InvalidField
            | Self::UnknownField
            | Self::UnknownKind
            | Self::InvalidQuery
            | Self::WeakPassword => 400,
            Self::Unauthorized | Self::InvalidCredentials => 401,
            Self::Forbidden => 403,
            Self::AccountLocked => 423,
            Self::RateLimited => 429,
            Self::RequestTimeout => 408,
            Self::NotFound => 404,
            Self::AlreadyExists | Self::TagVoid | Self::InvalidTransition => 409,
            Self::UnknownReference
            | Self::InvalidRows
            | Self::InvalidGeometry
            | Self::DistrictMismatch
            | Self::ForeignStaff
            | Self::SelfInspection => 422,
            Self::VersionRequired => 428,
            Self::VersionStale => 412,
            Self::RecordInactive => 409,
            Self::MethodNotAllowed => 405,
            Self::PayloadTooLarge => 413,
            Self::UnsupportedMediaType => 415,
            Self::AllEventsRejected | Self::UnsupportedKind => 422,
            Self::Internal => 500,
            Self::ServiceUnavailable => 503,
        }
    }

    /// Every code.
    pub const ALL: [Self; 34] = [
        Self::MalformedBody,
        Self::PayloadTooLarge,
        Self::UnsupportedMediaType,
        Self::InvalidBatchSize,
        Self::AllEventsRejected,
        Self::MissingField,
        Self::InvalidField,
        Self::UnknownField,
        Self::UnknownKind,
        Self::UnsupportedKind,
        Self::Unauthorized,
        Self::Forbidden,
        Self::InvalidCredentials,
        Self::AccountLocked,
        Self::RateLimited,
        Self::RequestTimeout,
        Self::WeakPassword,
        Self::NotFound,
        Self::AlreadyExists,
        Self::UnknownReference,
        Self::TagVoid,
        Self::InvalidRows,
        Self::MethodNotAllowed,
        Self::InvalidTransition,
        Self::InvalidQuery,
        Self::InvalidGeometry,
        Self::DistrictMismatch,
        Self::ServiceUnavailable,
        Self::Internal,
        Self::ForeignStaff,
        Self::SelfInspection,
        Self::VersionRequired,
        Self::VersionStale,
        Self::RecordInactive,
    ];

    /// The stable snake_case name used in the `code` field.
    pub fn name(self) -> &'static str {
        match self {
            Self::MalformedBody => "malformed_body",
            Self::PayloadTooLarge => "payload_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::InvalidBatchSize => "invalid_batch_size",
            Self::AllEventsRejected => "all_events_rejected",
            Self::MissingField => "missing_field",
            Self::InvalidField => "invalid_field",
            Self::UnknownField => "unknown_field",
            Self::UnknownKind => "unknown_kind",
            Self::UnsupportedKind => "unsupported_kind",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::InvalidCredentials => "invalid_credentials",
            Self::AccountLocked => "account_locked",
            Self::RateLimited => "rate_limited",
            Self::RequestTimeout => "request_timeout",
            Self::WeakPassword => "weak_password",
            Self::NotFound => "not_found",
            Self::AlreadyExists => "already_exists",
            Self::UnknownReference => "unknown_reference",
            Self::TagVoid => "tag_void",
            Self::InvalidRows => "invalid_rows",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::InvalidTransition => "invalid_transition",
            Self::InvalidQuery => "invalid_query",
            Self::InvalidGeometry => "invalid_geometry",
            Self::DistrictMismatch => "district_mismatch",
            Self::ServiceUnavailable => "service_unavailable",
            Self::Internal => "internal",
            Self::ForeignStaff => "foreign_staff",
            Self::SelfInspection => "self_inspection",
            Self::VersionRequired => "version_required",
            Self::VersionStale => "version_stale",
            Self::RecordInactive => "record_inactive",
        }
    }
}

/// The inner object of an error body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ErrorDetail {
    /// An error without a field path.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
        }
    }

    /// The same error, naming the field it is about.
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

/// `{"error": {...}}`, the body of every error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_name_matches_name() {
        for code in ErrorCode::ALL {
            let json = serde_json::to_value(code).unwrap_or_default();
            assert_eq!(json, serde_json::Value::String(code.name().to_owned()));
            let status = code.http_status();
            assert!((400..600).contains(&status), "{code:?} -> {status}");
        }
    }
}
