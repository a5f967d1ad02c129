//! The words of the incident pages (应急联动): the names of incident kinds, levels, statuses
//! and timeline entries, and every string of the duty console, the incident page, its report
//! and the wall's incident panel. Chinese first, English second; a match per key, so a key
//! without both is a compile error (as in `i18n`).

use crate::i18n::Lang;
use shared::incident::{
    IncidentKind, IncidentLevel, IncidentStatus, ResponderKind, TaskStatus, TimelineWhat,
};

/// An incident's kind (泄漏/火灾/爆炸/非法充装/废弃气瓶/其他).
pub fn kind(lang: Lang, k: IncidentKind) -> &'static str {
    let (zh, en) = match k {
        IncidentKind::Leak => ("泄漏", "Leak"),
        IncidentKind::Fire => ("火灾", "Fire"),
        IncidentKind::Explosion => ("爆炸", "Explosion"),
        IncidentKind::IllegalFilling => ("非法充装", "Illegal filling"),
        IncidentKind::Abandoned => ("废弃气瓶", "Abandoned cylinder"),
        IncidentKind::Other => ("其他", "Other"),
    };
    pick(lang, zh, en)
}

/// An incident's level (一般/较大/重大/特别重大).
pub fn level(lang: Lang, l: IncidentLevel) -> &'static str {
    let (zh, en) = match l {
        IncidentLevel::General => ("一般", "General"),
        IncidentLevel::Large => ("较大", "Large"),
        IncidentLevel::Major => ("重大", "Major"),
        IncidentLevel::EspeciallyMajor => ("特别重大", "Especially major"),
    };
    pick(lang, zh, en)
}

/// Where the response stands (已接报/处置中/已控制/已结案).
pub fn status(lang: Lang, s: IncidentStatus) -> &'static str {
    let (zh, en) = match s {
        IncidentStatus::Open => ("已接报", "Reported"),
        IncidentStatus::Responding => ("处置中", "Responding"),
        IncidentStatus::Contained => ("已控制", "Contained"),
        IncidentStatus::Closed => ("已结案", "Closed"),
    };
    pick(lang, zh, en)
}

/// The button that moves an incident to `s`.
pub fn status_action(lang: Lang, s: IncidentStatus) -> &'static str {
    let (zh, en) = match s {
        IncidentStatus::Open => ("已接报", "Reported"),
        IncidentStatus::Responding => ("开始处置", "Start responding"),
        IncidentStatus::Contained => ("已控制", "Mark contained"),
        IncidentStatus::Closed => ("结案", "Close"),
    };
    pick(lang, zh, en)
}

/// What a timeline entry records.
pub fn timeline_what(lang: Lang, w: TimelineWhat) -> &'static str {
    let (zh, en) = match w {
        TimelineWhat::Opened => ("立案", "Opened"),
        TimelineWhat::Note => ("记录", "Note"),
        TimelineWhat::Status => ("状态变更", "Status"),
        TimelineWhat::Reopened => ("重新处置", "Reopened"),
        TimelineWhat::ContextRefreshed => ("刷新关联信息", "Context refreshed"),
        TimelineWhat::TaskAssigned => ("派发任务", "Task assigned"),
        TimelineWhat::TaskStatus => ("任务进展", "Task update"),
        TimelineWhat::Acknowledged => ("企业确认", "Acknowledged"),
        TimelineWhat::RecallIssued => ("发布召回", "Recall issued"),
    };
    pick(lang, zh, en)
}

/// Where a responder unit's task stands (已派发/在途/到场/完成/取消).
pub fn task_status(lang: Lang, s: TaskStatus) -> &'static str {
    let (zh, en) = match s {
        TaskStatus::Assigned => ("已派发", "Assigned"),
        TaskStatus::EnRoute => ("在途", "En route"),
        TaskStatus::OnScene => ("到场", "On scene"),
        TaskStatus::Done => ("完成", "Done"),
        TaskStatus::Cancelled => ("取消", "Cancelled"),
    };
    pick(lang, zh, en)
}

/// A responder unit's kind (消防/燃气抢险/区县监管/公安/急救/其他).
pub fn responder_kind(lang: Lang, k: ResponderKind) -> &'static str {
    let (zh, en) = match k {
        ResponderKind::Fire => ("消防救援（119）", "Fire and rescue (119)"),
        ResponderKind::GasEmergency => ("燃气企业抢险队", "Gas company emergency crew"),
        ResponderKind::DistrictBureau => ("区县监管部门", "District bureau"),
        ResponderKind::Police => ("公安（110）", "Police (110)"),
        ResponderKind::Medical => ("医疗急救（120）", "Medical (120)"),
        ResponderKind::Other => ("其他", "Other"),
    };
    pick(lang, zh, en)
}

/// Every responder kind, in the order the unit form offers them.
pub const RESPONDER_KINDS: [ResponderKind; 6] = [
    ResponderKind::Fire,
    ResponderKind::GasEmergency,
    ResponderKind::DistrictBureau,
    ResponderKind::Police,
    ResponderKind::Medical,
    ResponderKind::Other,
];

/// Every task status, forward order (cancelled last).
pub const TASK_STATUSES: [TaskStatus; 5] = [
    TaskStatus::Assigned,
    TaskStatus::EnRoute,
    TaskStatus::OnScene,
    TaskStatus::Done,
    TaskStatus::Cancelled,
];

/// Every kind, level and status, in the order the forms and filters offer them.
pub const KINDS: [IncidentKind; 6] = [
    IncidentKind::Leak,
    IncidentKind::Fire,
    IncidentKind::Explosion,
    IncidentKind::IllegalFilling,
    IncidentKind::Abandoned,
    IncidentKind::Other,
];
pub const LEVELS: [IncidentLevel; 4] = [
    IncidentLevel::General,
    IncidentLevel::Large,
    IncidentLevel::Major,
    IncidentLevel::EspeciallyMajor,
];
pub const STATUSES: [IncidentStatus; 4] = [
    IncidentStatus::Open,
    IncidentStatus::Responding,
    IncidentStatus::Contained,
    IncidentStatus::Closed,
];

/// Every string of the incident pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum T {
    Incidents,
    NewIncident,
    OpenFromAlert,
    Kind,
    Level,
    Status,
    Description,
    CylinderCode,
    TagId,
    SerialNo,
    Lon,
    Lat,
    CallerName,
    CallerPhone,
    Submit,
    AllKinds,
    AllLevels,
    From,
    To,
    Search,
    SearchWords,
    District,
    Enterprise,
    OpenedAt,
    Place,
    NoIncidents,
    ActiveFirst,
    ClosedSearch,
    Timeline,
    NoteBox,
    AddNote,
    Reopen,
    Context,
    Refresh,
    Radius,
    CylinderArchive,
    Chain,
    LastFilling,
    Station,
    Gun,
    Filler,
    Certificate,
    Masses,
    Decision,
    Vehicle,
    Driver,
    Customer,
    Nearby,
    Sites,
    Vehicles,
    Cylinders,
    Batch,
    ByGun,
    ByFiller,
    NoCylinder,
    NothingNearby,
    EmptyBatch,
    IssueRecall,
    RecallReason,
    RecallReasonDefault,
    Recalls,
    Recalled,
    Located,
    Recovered,
    Inspected,
    Cleared,
    StillRefused,
    Report,
    ReportTitle,
    Print,
    Summary,
    Implicated,
    RecallFigures,
    Tasks,
    NoTasks,
    Unit,
    What,
    DueAt,
    Assign,
    NoUnits,
    TaskNote,
    Acks,
    Unacknowledged,
    Acknowledge,
    DownloadCsv,
    DownloadJson,
    BackToCity,
    ViewIncident,
    WallIncident,
    ReportOnlyClosed,
    Caller,
    OpenedBy,
    Allowed,
    Refused,
    Compliance,
    Why,
    FilledAt,
    NoneYet,
    NotFound,
    ResponderUnits,
    UnitCode,
    UnitName,
    UnitKind,
    UnitPhone,
    RegisterUnit,
    UnitRegistered,
    MayNotRegister,
    PickOnMap,
}

impl T {
    /// The text in `lang`.
    pub fn t(self, lang: Lang) -> &'static str {
        let (zh, en) = match self {
            Self::Incidents => ("应急", "Incidents"),
            Self::NewIncident => ("新建事件", "New incident"),
            Self::OpenFromAlert => ("立案", "Open incident"),
            Self::Kind => ("类型", "Kind"),
            Self::Level => ("级别", "Level"),
            Self::Status => ("状态", "Status"),
            Self::Description => ("事件描述", "Description"),
            Self::CylinderCode => ("钢瓶编码", "Cylinder code"),
            Self::TagId => ("电子标签", "Tag"),
            Self::SerialNo => ("出厂编号", "Serial no."),
            Self::Lon => ("经度", "Longitude"),
            Self::Lat => ("纬度", "Latitude"),
            Self::CallerName => ("姓名", "Name"),
            Self::CallerPhone => ("电话", "Phone"),
            Self::Submit => ("立案", "Open"),
            Self::AllKinds => ("全部类型", "All kinds"),
            Self::AllLevels => ("全部级别", "All levels"),
            Self::From => ("起", "From"),
            Self::To => ("止", "To"),
            Self::Search => ("查询", "Search"),
            Self::SearchWords => ("地点或关键词", "Place or words"),
            Self::District => ("区县", "District"),
            Self::Enterprise => ("企业", "Enterprise"),
            Self::OpenedAt => ("接报时间", "Reported at"),
            Self::Place => ("地点", "Place"),
            Self::NoIncidents => ("没有符合条件的事件", "No incident matches"),
            Self::ActiveFirst => ("处置中的事件", "Active incidents"),
            Self::ClosedSearch => ("已结案事件查询", "Closed incidents"),
            Self::Timeline => ("处置记录", "Timeline"),
            Self::NoteBox => ("记录处置情况", "What happened"),
            Self::AddNote => ("记录", "Add"),
            Self::Reopen => ("重新处置", "Reopen"),
            Self::Context => ("关联信息", "Context"),
            Self::Refresh => ("刷新", "Refresh"),
            Self::Radius => ("半径", "Radius"),
            Self::CylinderArchive => ("涉事气瓶", "The cylinder"),
            Self::Chain => ("追溯链", "Chain"),
            Self::LastFilling => ("最近充装", "Last filling"),
            Self::Station => ("充装站", "Station"),
            Self::Gun => ("充装枪", "Gun"),
            Self::Filler => ("充装人员", "Filler"),
            Self::Certificate => ("作业证", "Certificate"),
            Self::Masses => ("充装前/后质量", "Mass before/after"),
            Self::Decision => ("充装判定", "Gun's decision"),
            Self::Vehicle => ("运输车辆", "Vehicle"),
            Self::Driver => ("驾驶员", "Driver"),
            Self::Customer => ("用户", "Customer"),
            Self::Nearby => ("周边", "Nearby"),
            Self::Sites => ("站点/用户", "Sites"),
            Self::Vehicles => ("车辆", "Vehicles"),
            Self::Cylinders => ("气瓶", "Cylinders"),
            Self::Batch => ("同批次气瓶", "The batch"),
            Self::ByGun => ("按充装枪", "By gun"),
            Self::ByFiller => ("按充装人员", "By filler"),
            Self::NoCylinder => ("未关联气瓶", "No cylinder implicated"),
            Self::NothingNearby => ("周边无记录", "Nothing within the radius"),
            Self::EmptyBatch => ("无同批次气瓶", "No other cylinder in the batch"),
            Self::IssueRecall => ("发布召回", "Issue a recall"),
            Self::RecallReason => ("召回原因", "Reason"),
            Self::RecallReasonDefault => ("事件同批次气瓶召回", "Recall of the incident's batch"),
            Self::Recalls => ("召回", "Recalls"),
            Self::Recalled => ("召回数", "Recalled"),
            Self::Located => ("已定位", "Located"),
            Self::Recovered => ("已回收", "Recovered"),
            Self::Inspected => ("已检验", "Inspected"),
            Self::Cleared => ("已解除", "Cleared"),
            Self::StillRefused => ("仍禁充", "Still refused"),
            Self::Report => ("结案报告", "Report"),
            Self::ReportTitle => ("气瓶安全事件结案报告", "Incident report"),
            Self::Print => ("打印", "Print"),
            Self::Summary => ("事件概要", "Summary"),
            Self::Implicated => ("涉事气瓶", "Implicated cylinders"),
            Self::RecallFigures => ("召回情况", "Recall figures"),
            Self::Tasks => ("处置任务", "Tasks"),
            Self::NoTasks => ("暂无任务", "No task"),
            Self::Unit => ("处置单位", "Unit"),
            Self::What => ("任务内容", "What"),
            Self::DueAt => ("完成时限", "Due"),
            Self::Assign => ("派发任务", "Assign"),
            Self::NoUnits => ("尚未登记处置单位", "No responder unit registered"),
            Self::TaskNote => ("进展说明", "Note"),
            Self::Acks => ("企业确认", "Acknowledged by"),
            Self::Unacknowledged => ("待确认企业", "Not acknowledged yet"),
            Self::Acknowledge => ("确认收到", "Acknowledge"),
            Self::DownloadCsv => ("涉事气瓶 CSV", "Cylinders (CSV)"),
            Self::DownloadJson => ("处置记录 JSON", "Timeline (JSON)"),
            Self::BackToCity => ("返回全市", "Back to the city"),
            Self::ViewIncident => ("事件详情", "Open the incident"),
            Self::WallIncident => ("应急事件", "Incident"),
            Self::ReportOnlyClosed => (
                "事件结案后生成报告",
                "The report is made once the incident is closed",
            ),
            Self::Caller => ("报警人", "Caller"),
            Self::OpenedBy => ("接报人", "Opened by"),
            Self::Allowed => ("允许", "Allowed"),
            Self::Refused => ("拒绝", "Refused"),
            Self::Compliance => ("合规状态", "Compliance"),
            Self::Why => ("关联方式", "Why"),
            Self::FilledAt => ("充装时间", "Filled at"),
            Self::NoneYet => ("暂无", "None"),
            Self::NotFound => (
                "事件不存在或无权查看",
                "No such incident (or not yours to see)",
            ),
            Self::ResponderUnits => ("处置单位", "Responder units"),
            Self::UnitCode => ("单位编号", "Unit code"),
            Self::UnitName => ("单位名称", "Unit name"),
            Self::UnitKind => ("单位类型", "Kind"),
            Self::UnitPhone => ("联系电话", "Phone"),
            Self::RegisterUnit => ("登记处置单位", "Register a unit"),
            Self::UnitRegistered => ("已登记", "Registered"),
            Self::MayNotRegister => (
                "处置单位由管理员或市级监管人员登记",
                "Units are registered by an administrator or a city regulator",
            ),
            Self::PickOnMap => (
                "在地图上点击选定地点，或填写经纬度",
                "Click the map to set the place, or type its coordinates",
            ),
        };
        pick(lang, zh, en)
    }
}

/// Why a cylinder is in the batch (`filling` or `production`); an unknown reason as sent.
pub fn batch_why(lang: Lang, why: &str) -> String {
    let (zh, en) = match why {
        "filling" => ("同站同时段充装", "Same station and hours"),
        "production" => ("同厂同生产批号", "Same production batch"),
        _ => return why.to_owned(),
    };
    pick(lang, zh, en).to_owned()
}

/// How many of a list are shown when it holds only the first of them (empty when all are).
pub fn shown_of(lang: Lang, shown: usize, total: i64) -> String {
    if i64::try_from(shown).is_ok_and(|n| n >= total) {
        return String::new();
    }
    match lang {
        Lang::Zh => format!("显示 {shown} / 共 {total}"),
        Lang::En => format!("{shown} of {total} shown"),
    }
}

/// A distance in metres as read at a glance (`320 m`, `1.2 km`).
pub fn distance(m: f64) -> String {
    if m < 1000.0 {
        format!("{} m", m.round())
    } else {
        format!("{:.1} km", m / 1000.0)
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
    use std::collections::HashSet;

    #[test]
    fn kinds_levels_and_statuses_read_as_the_issue_names_them() {
        let zh: Vec<&str> = KINDS.iter().map(|k| kind(Lang::Zh, *k)).collect();
        assert_eq!(zh, ["泄漏", "火灾", "爆炸", "非法充装", "废弃气瓶", "其他"]);
        let zh: Vec<&str> = LEVELS.iter().map(|l| level(Lang::Zh, *l)).collect();
        assert_eq!(zh, ["一般", "较大", "重大", "特别重大"]);
        let zh: Vec<&str> = STATUSES.iter().map(|s| status(Lang::Zh, *s)).collect();
        assert_eq!(zh, ["已接报", "处置中", "已控制", "已结案"]);
        for lang in [Lang::Zh, Lang::En] {
            let names: HashSet<&str> = KINDS.iter().map(|k| kind(lang, *k)).collect();
            assert_eq!(names.len(), KINDS.len(), "{lang:?}: a label per kind");
        }
        assert_eq!(
            kind(Lang::En, IncidentKind::IllegalFilling),
            "Illegal filling"
        );
    }

    #[test]
    fn the_lists_hold_every_variant_once() {
        // A new variant would fail to compile in the `match`es above; here, that the lists
        // the forms offer are complete.
        assert_eq!(KINDS.iter().collect::<HashSet<_>>().len(), 6);
        for (i, s) in STATUSES.iter().enumerate() {
            assert_eq!(IncidentStatus::from_name(s.name()), Some(*s));
            assert!(
                STATUSES[..i].iter().all(|earlier| earlier < s),
                "forward order"
            );
        }
    }

    #[test]
    fn every_responder_kind_has_its_own_label_in_both_languages() {
        for lang in [Lang::Zh, Lang::En] {
            let names: HashSet<&str> = RESPONDER_KINDS
                .iter()
                .map(|k| responder_kind(lang, *k))
                .collect();
            assert_eq!(names.len(), 6, "{lang:?}");
        }
        assert_eq!(
            responder_kind(Lang::Zh, ResponderKind::Fire),
            "消防救援（119）"
        );
        for k in RESPONDER_KINDS {
            assert_eq!(ResponderKind::from_name(k.name()), Some(k));
        }
    }

    #[test]
    fn distances_read_in_metres_then_kilometres() {
        assert_eq!(distance(0.4), "0 m");
        assert_eq!(distance(321.6), "322 m");
        assert_eq!(distance(1234.0), "1.2 km");
        assert_eq!(batch_why(Lang::Zh, "filling"), "同站同时段充装");
        assert_eq!(batch_why(Lang::En, "other"), "other");
    }
}
