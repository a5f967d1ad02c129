//! Cylinder lifecycle operations (issue 21 item 4): replacing a cylinder's tag.

use crate::ids::{CylinderCode, TagId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// `POST /api/v1/cylinders/{code}/replace-tag`: the new tag and why. The old tag becomes void
/// for ever.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReplaceTag {
    pub tag_id: TagId,
    /// 1 to [`crate::auth::MAX_REASON_CHARS`] characters, no control characters.
    pub reason: String,
}

/// A replacement done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TagReplacement {
    pub code: CylinderCode,
    /// The tag now void.
    pub old_tag_id: TagId,
    /// The tag now bound.
    pub tag_id: TagId,
    /// The cylinder's version after the replacement.
    pub version: i64,
    pub reason: String,
    pub by: String,
    pub at: DateTime<Utc>,
}
