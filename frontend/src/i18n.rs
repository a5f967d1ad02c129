//! Chinese first, English second. Every visible string goes through `Lang::t`.

use crate::services::token::query_param;
use yew::prelude::*;

/// The two languages of the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

/// Every string the UI shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Title,
    Wall,
    Connecting,
    Live,
    Reconnecting,
    LastUpdate,
    Districts,
    Vehicles,
    MapLoading,
    MapFailed,
    NotFound,
    BackToWall,
    SwitchLang,
    // The cylinder page.
    SearchPlaceholder,
    SearchGo,
    Archive,
    FieldCode,
    FieldTag,
    FieldMedium,
    FieldTare,
    FieldVolume,
    FieldWorkingPressure,
    FieldTestPressure,
    FieldWallThickness,
    FieldMaxFill,
    FieldDesignLife,
    FieldManufacturer,
    FieldManufactured,
    FieldStandard,
    FieldManufactureLicence,
    FieldLastInspected,
    FieldNextInspection,
    FieldRegistrationNo,
    FieldRegisteredOn,
    FieldRegistrationAuthority,
    FieldOwner,
    FieldStation,
    FieldLifeEnds,
    FieldQrPayload,
    Years,
    Compliance,
    Custody,
    HeldAt,
    AsOf,
    LastSeen,
    LastFilled,
    FlaggedEvents,
    PublicView,
    History,
    Trajectory,
    ColTime,
    ColOperation,
    ColOperator,
    ColPlace,
    ColTarget,
    ColMassBefore,
    ColMassAfter,
    NoHistory,
    HistoryTruncated,
    NoTrajectory,
    CurrentPosition,
    Start,
    Loading,
    CylinderNotFound,
    LoadFailed,
    Retry,
    // The public QR page (shown in Chinese only).
    PublicTitle,
    PublicCode,
    PublicHintGreen,
    PublicHintAmber,
    PublicHintRed,
    PublicNotFound,
    PublicNotFoundHint,
    PublicRecent,
    PublicNoRecent,
    PublicFailed,
    PublicFooter,
    // Signing in, and who is signed in.
    CheckingSession,
    LoginHeading,
    LoginSubtitle,
    Username,
    Password,
    LoginSubmit,
    LoggingIn,
    LoginMissing,
    LoginInvalid,
    /// Has `{until}` for the instant the lock ends.
    LoginLockedUntil,
    LoginLocked,
    LoginRateLimited,
    LoginNetwork,
    LoginFailed,
    LoginNote,
    Logout,
    SignedInAs,
    ScopeCity,
    ScopeEnterprise,
    ScopeDistrict,
    // The station view.
    StationSearchPlaceholder,
    FillingControl,
    Date,
    Today,
    UpdatedAt,
    /// Has `{time}` for when the shown data was fetched.
    RefreshFailed,
    StationNotFound,
    KpiDecisions,
    KpiAllowed,
    KpiRefused,
    KpiIllegalTags,
    KpiFillings,
    KpiFlaggedFillings,
    KpiLateRecords,
    /// Has `{max}` and `{mean}`, in seconds.
    LateDetail,
    RefusalsByRule,
    NoRefusals,
    GunDecisions,
    Gun,
    NoDecisions,
    Allowed,
    Refused,
    RecentDecisions,
    ColDecidedAt,
    ColGun,
    ColCylinderOrTag,
    ColResult,
    ColReasons,
    Tag,
    // The duty console.
    DutyConsole,
    AlertFeed,
    OpenCount,
    CriticalCount,
    FilterStatus,
    FilterKind,
    FilterSeverity,
    FilterDistrict,
    AllUnresolved,
    AllKinds,
    AllSeverities,
    AllDistricts,
    NoAlerts,
    PickAlert,
    AlertSubject,
    AlertPlace,
    OpenedAt,
    LastSeenAt,
    AlertCount,
    ConditionEnded,
    EscalatedAt,
    AckedBy,
    ResolvedBy,
    Evidence,
    NoEvidence,
    Note,
    NotePlaceholder,
    Acknowledge,
    Resolve,
    Working,
    ActionFailed,
    ReadOnly,
    SoundOn,
    SoundOff,
    AlertLocation,
    NoPlace,
    Yes,
    No,
    // Statistics drill-down.
    Statistics,
    Inventory,
    ColShipped,
    ColInTransit,
    ColDelivered,
    ColReturning,
    ColTotal,
    ColLost,
    TotalRow,
    NoInventory,
    ComplianceBars,
    StationEnterpriseCompliance,
    NoComplianceData,
    RecentAlerts,
    OpenDutyConsole,
    Enterprises,
    Stations,
    StationsFromAlerts,
    NoStationsKnown,
    CylinderList,
    Close,
    LoadMore,
    DownloadCsv,
    Downloading,
    NoCylinders,
    Shown,
    LevelCity,
    LevelDistrict,
    LevelEnterprise,
    LevelStation,
    ScopeNotFound,
    FigureHint,
    // The wall.
    NoteRequired,
    KpiCirculation,
    KpiFillingsToday,
    KpiRefusalsToday,
    KpiOpenAlerts,
    KpiOnRoad,
    KpiLostDetail,
    KpiOnlineDetail,
    ChartFillings,
    ChartCustody,
    ChartAlertKinds,
    ChartTopEnterprises,
    InStockOther,
    NoData,
    WallReconnecting,
    OpenStatistics,
    DensityLayer,
    CylindersUnit,
    SiteStation,
    SiteCustomer,
    VehicleLabel,
    Speed,
    FullStock,
    ResetView,
    ViewStation,
}

const STORAGE_KEY: &str = "cylwatch.lang";

impl Lang {
    /// `?lang=en|zh` in the URL (for a wall configured by its URL, also inside the sign-in
    /// page's `?next=`), else the stored choice, else Chinese.
    pub fn load() -> Self {
        let window = web_sys::window();
        let query = window
            .as_ref()
            .and_then(|w| w.location().search().ok())
            .unwrap_or_default();
        let from_url = query_param(&query, "lang").or_else(|| {
            let next = query_param(&query, "next")?;
            query_param(next.split_once('?')?.1, "lang")
        });
        let stored = || {
            window
                .as_ref()
                .and_then(|w| w.local_storage().ok().flatten())
                .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
        };
        match from_url.or_else(stored).as_deref() {
            Some("en") => Self::En,
            _ => Self::Zh,
        }
    }

    /// Remembers the choice in the browser.
    pub fn store(self) {
        if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
            let _ = storage.set_item(STORAGE_KEY, self.code());
        }
    }

    /// `zh` or `en`.
    pub fn code(self) -> &'static str {
        match self {
            Self::Zh => "zh",
            Self::En => "en",
        }
    }

    /// The other language.
    pub fn other(self) -> Self {
        match self {
            Self::Zh => Self::En,
            Self::En => Self::Zh,
        }
    }

    /// The text for `key` in this language.
    pub fn t(self, key: Key) -> &'static str {
        let (zh, en) = match key {
            Key::Title => (
                "郑州市气瓶安全监管平台",
                "Zhengzhou Gas Cylinder Supervision",
            ),
            Key::Wall => ("指挥大屏", "Command wall"),
            Key::Connecting => ("正在连接", "Connecting"),
            Key::Live => ("实时", "Live"),
            Key::Reconnecting => ("连接中断，正在重连", "Connection lost, reconnecting"),
            Key::LastUpdate => ("最近更新", "Last update"),
            Key::Districts => ("行政区", "Districts"),
            Key::Vehicles => ("车辆", "vehicles"),
            Key::MapLoading => ("正在加载地图", "Loading the map"),
            Key::MapFailed => ("地图加载失败", "The map could not be loaded"),
            Key::NotFound => ("页面不存在", "Page not found"),
            Key::BackToWall => ("返回指挥大屏", "Back to the wall"),
            Key::SwitchLang => ("English", "中文"),
            Key::SearchPlaceholder => ("输入气瓶编号", "Cylinder number"),
            Key::SearchGo => ("查询", "Open"),
            Key::Archive => ("气瓶档案", "Cylinder archive"),
            Key::FieldCode => ("气瓶唯一性瓶号", "Cylinder number"),
            Key::FieldTag => ("电子标签号", "RFID tag"),
            Key::FieldMedium => ("充装介质", "Medium"),
            Key::FieldTare => ("气瓶质量(kg)", "Tare mass (kg)"),
            Key::FieldVolume => ("公称容积(L)", "Nominal volume (L)"),
            Key::FieldWorkingPressure => ("公称工作压力(MPa)", "Working pressure (MPa)"),
            Key::FieldTestPressure => ("水压试验压力(MPa)", "Hydrostatic test pressure (MPa)"),
            Key::FieldWallThickness => ("设计壁厚(mm)", "Design wall thickness (mm)"),
            Key::FieldMaxFill => ("允许充装量(kg)", "Allowed fill mass (kg)"),
            Key::FieldDesignLife => ("设计使用年限", "Design service life"),
            Key::FieldManufacturer => ("制造单位", "Manufacturer"),
            Key::FieldManufactured => ("制造年月", "Manufactured"),
            Key::FieldStandard => ("产品标准", "Product standard"),
            Key::FieldManufactureLicence => ("制造许可证编号", "Manufacturing licence no."),
            Key::FieldLastInspected => ("检验日期", "Last inspected"),
            Key::FieldNextInspection => ("下次检验日期", "Next inspection"),
            Key::FieldRegistrationNo => ("登记证编号", "Use registration no."),
            Key::FieldRegisteredOn => ("登记日期", "Registered on"),
            Key::FieldRegistrationAuthority => ("登记机构", "Registration authority"),
            Key::FieldOwner => ("产权单位", "Owner"),
            Key::FieldStation => ("登记站点", "Registered station"),
            Key::FieldLifeEnds => ("设计使用年限至", "Design life ends"),
            Key::FieldQrPayload => ("二维码内容", "QR payload"),
            Key::Years => ("年", "years"),
            Key::Compliance => ("合规状态", "Compliance"),
            Key::Custody => ("流转状态", "Custody"),
            Key::HeldAt => ("所在地点", "Held at"),
            Key::AsOf => ("评估日期", "As of"),
            Key::LastSeen => ("最近识别", "Last seen"),
            Key::LastFilled => ("最近充装", "Last filled"),
            Key::FlaggedEvents => ("异常流转", "Irregular events"),
            Key::PublicView => ("公众查询页", "Public page"),
            Key::History => ("历史跟踪", "History"),
            Key::Trajectory => ("流转轨迹", "Trajectory"),
            Key::ColTime => ("日期时间", "Date and time"),
            Key::ColOperation => ("操作类型", "Operation"),
            Key::ColOperator => ("操作人", "Operator"),
            Key::ColPlace => ("操作地点", "Place"),
            Key::ColTarget => ("目标地点", "Destination"),
            Key::ColMassBefore => ("自重(kg)", "Mass before (kg)"),
            Key::ColMassAfter => ("总重(kg)", "Mass after (kg)"),
            Key::NoHistory => ("暂无流转记录", "No events yet"),
            Key::HistoryTruncated => (
                "记录过多，仅显示最早的部分",
                "Too many events: only the earliest are shown",
            ),
            Key::NoTrajectory => ("暂无位置记录", "No positions recorded"),
            Key::CurrentPosition => ("当前位置", "Current position"),
            Key::Start => ("起点", "Start"),
            Key::Loading => ("正在加载", "Loading"),
            Key::CylinderNotFound => ("未找到该气瓶", "No cylinder with this number"),
            Key::LoadFailed => ("加载失败", "Could not load"),
            Key::Retry => ("重试", "Retry"),
            Key::PublicTitle => ("气瓶安全信息查询", "Cylinder safety lookup"),
            Key::PublicCode => ("气瓶编号", "Cylinder number"),
            Key::PublicHintGreen => ("检验合格，可以正常使用", "Inspected, safe to use"),
            Key::PublicHintAmber => (
                "即将到期，请提醒供气单位及时送检",
                "Inspection due soon: ask the supplier to have it inspected",
            ),
            Key::PublicHintRed => (
                "禁止使用或充装，请联系供气单位更换，或拨打 12315 举报",
                "Must not be used or filled: ask the supplier for another, or call 12315",
            ),
            Key::PublicNotFound => ("未找到该气瓶", "Cylinder not found"),
            Key::PublicNotFoundHint => (
                "该气瓶未在监管平台登记，请勿使用，并拨打 12315 举报",
                "Not registered: do not use it, and report it to 12315",
            ),
            Key::PublicRecent => ("最近流转", "Recent places"),
            Key::PublicNoRecent => ("暂无流转记录", "No records yet"),
            Key::PublicFailed => ("查询失败，请稍后重试", "The lookup failed, please retry"),
            Key::PublicFooter => (
                "郑州市气瓶安全监管平台 · 投诉举报电话 12315",
                "Zhengzhou Gas Cylinder Supervision · complaints: 12315",
            ),
            Key::CheckingSession => ("正在验证登录状态", "Checking the session"),
            Key::LoginHeading => ("用户登录", "Sign in"),
            Key::LoginSubtitle => (
                "气瓶安全信息追溯监管 · 仅限授权人员使用",
                "Gas cylinder traceability · authorised staff only",
            ),
            Key::Username => ("用户名", "Username"),
            Key::Password => ("密码", "Password"),
            Key::LoginSubmit => ("登录", "Sign in"),
            Key::LoggingIn => ("正在登录", "Signing in"),
            Key::LoginMissing => ("请输入用户名和密码", "Enter your username and password"),
            Key::LoginInvalid => ("用户名或密码错误", "Wrong username or password"),
            Key::LoginLockedUntil => (
                "登录失败次数过多，账户已锁定，请于 {until} 后再试",
                "Too many failed attempts: the account is locked until {until}",
            ),
            Key::LoginLocked => (
                "登录失败次数过多，账户已暂时锁定，请稍后再试",
                "Too many failed attempts: the account is locked for now",
            ),
            Key::LoginRateLimited => (
                "登录尝试过于频繁，请一分钟后再试",
                "Too many attempts from this computer: try again in a minute",
            ),
            Key::LoginNetwork => (
                "无法连接服务器，请检查网络后重试",
                "The server cannot be reached: check the network and retry",
            ),
            Key::LoginFailed => ("登录失败", "Sign-in failed"),
            Key::LoginNote => (
                "连续 5 次输错密码将锁定账户；长时间无操作将自动退出登录",
                "Five wrong passwords in a row lock the account; idle sessions end by themselves",
            ),
            Key::Logout => ("退出登录", "Sign out"),
            Key::SignedInAs => ("当前用户", "Signed in as"),
            Key::ScopeCity => ("全市", "Whole city"),
            Key::ScopeEnterprise => ("企业", "Enterprise"),
            Key::ScopeDistrict => ("辖区", "District"),
            Key::StationSearchPlaceholder => ("输入站点编号", "Station code"),
            Key::FillingControl => ("充装控枪", "Filling control"),
            Key::Date => ("日期", "Date"),
            Key::Today => ("今天", "Today"),
            Key::UpdatedAt => ("更新于", "Updated"),
            Key::RefreshFailed => (
                "刷新失败，显示的是 {time} 的数据",
                "Refresh failed: showing the data of {time}",
            ),
            Key::StationNotFound => (
                "未找到该站点，或不在您的管辖范围内",
                "No such station within your scope",
            ),
            Key::KpiDecisions => ("充装判定", "Decisions"),
            Key::KpiAllowed => ("允许充装", "Allowed"),
            Key::KpiRefused => ("拒绝充装", "Refused"),
            Key::KpiIllegalTags => ("非法标签", "Illegal tags"),
            Key::KpiFillings => ("充装记录", "Fillings"),
            Key::KpiFlaggedFillings => ("异常充装", "Flagged fillings"),
            Key::KpiLateRecords => ("迟报记录", "Late records"),
            Key::LateDetail => (
                "最长 {max} 秒 · 平均 {mean} 秒",
                "max {max} s · mean {mean} s",
            ),
            Key::RefusalsByRule => ("拒绝原因统计", "Refusals by rule"),
            Key::NoRefusals => ("当日无拒绝", "No refusals on this day"),
            Key::GunDecisions => ("各充装枪实时判定", "Live decisions per gun"),
            Key::Gun => ("充装枪", "Gun"),
            Key::NoDecisions => ("当日暂无充装判定", "No decisions on this day"),
            Key::Allowed => ("允许", "Allowed"),
            Key::Refused => ("拒绝", "Refused"),
            Key::RecentDecisions => ("最近判定", "Recent decisions"),
            Key::ColDecidedAt => ("时间", "Time"),
            Key::ColGun => ("充装枪", "Gun"),
            Key::ColCylinderOrTag => ("气瓶编号 / 标签", "Cylinder or tag"),
            Key::ColResult => ("结果", "Result"),
            Key::ColReasons => ("拒绝原因", "Reasons"),
            Key::Tag => ("标签", "tag"),
            Key::DutyConsole => ("值班台", "Duty console"),
            Key::AlertFeed => ("告警列表", "Alerts"),
            Key::OpenCount => ("待处理", "Open"),
            Key::CriticalCount => ("紧急", "Critical"),
            Key::FilterStatus => ("状态", "Status"),
            Key::FilterKind => ("类型", "Kind"),
            Key::FilterSeverity => ("级别", "Severity"),
            Key::FilterDistrict => ("区域", "District"),
            Key::AllUnresolved => ("全部未解决", "All unresolved"),
            Key::AllKinds => ("全部类型", "All kinds"),
            Key::AllSeverities => ("全部级别", "All severities"),
            Key::AllDistricts => ("全部区域", "All districts"),
            Key::NoAlerts => ("暂无告警", "No alerts"),
            Key::PickAlert => ("请在左侧选择一条告警", "Pick an alert on the left"),
            Key::AlertSubject => ("告警对象", "Subject"),
            Key::AlertPlace => ("地点", "Place"),
            Key::OpenedAt => ("首次发生", "Opened"),
            Key::LastSeenAt => ("最近发生", "Last seen"),
            Key::AlertCount => ("发生次数", "Times seen"),
            Key::ConditionEnded => ("条件已消除", "Condition ended"),
            Key::EscalatedAt => ("已升级", "Escalated"),
            Key::AckedBy => ("确认", "Acknowledged"),
            Key::ResolvedBy => ("解决", "Resolved"),
            Key::Evidence => ("告警证据", "Evidence"),
            Key::NoEvidence => ("无", "None"),
            Key::Note => ("处置说明", "Note"),
            Key::NotePlaceholder => (
                "填写处置说明（紧急告警的确认与所有告警的解决都必须填写）",
                "What was done (required to acknowledge a critical alert, and to resolve any)",
            ),
            Key::Acknowledge => ("确认告警", "Acknowledge"),
            Key::Resolve => ("解决告警", "Resolve"),
            Key::Working => ("正在提交", "Sending"),
            Key::ActionFailed => ("操作失败", "Failed"),
            Key::ReadOnly => (
                "您的角色只能查看告警，不能处置",
                "Your role may view alerts but not handle them",
            ),
            Key::SoundOn => ("提示音：开", "Sound: on"),
            Key::SoundOff => ("提示音：关", "Sound: off"),
            Key::AlertLocation => ("告警位置", "Where"),
            Key::NoPlace => ("该告警没有位置信息", "This alert has no position"),
            Key::Yes => ("是", "yes"),
            Key::No => ("否", "no"),
            Key::Statistics => ("统计", "Statistics"),
            Key::Inventory => ("气瓶库存", "Cylinder inventory"),
            Key::ColShipped => ("已发货", "Shipped"),
            Key::ColInTransit => ("送提在途", "In transit"),
            Key::ColDelivered => ("已送提", "Delivered"),
            Key::ColReturning => ("回收在途", "Returning"),
            Key::ColTotal => ("总气瓶", "Total"),
            Key::ColLost => ("流失", "Lost"),
            Key::TotalRow => ("合计", "Total"),
            Key::NoInventory => ("该范围内暂无气瓶", "No cylinders in this scope"),
            Key::ComplianceBars => ("合规状态分布", "Compliance"),
            Key::StationEnterpriseCompliance => {
                ("所属企业合规状态", "Compliance of the station's enterprise")
            }
            Key::NoComplianceData => ("暂无合规数据", "No compliance figures"),
            Key::RecentAlerts => ("最近告警", "Recent alerts"),
            Key::OpenDutyConsole => ("前往值班台", "Open the duty console"),
            Key::Enterprises => ("企业", "Enterprises"),
            Key::Stations => ("站点", "Stations"),
            Key::StationsFromAlerts => (
                "以下站点见于告警记录；其他站点请输入编号查询",
                "Stations seen in alerts; open any other by its code",
            ),
            Key::NoStationsKnown => ("告警记录中暂无站点", "No station in the alerts"),
            Key::CylinderList => ("气瓶清单", "Cylinders"),
            Key::Close => ("关闭", "Close"),
            Key::LoadMore => ("加载更多", "More"),
            Key::DownloadCsv => ("下载 CSV", "CSV"),
            Key::Downloading => ("正在下载", "Downloading"),
            Key::NoCylinders => ("没有符合条件的气瓶", "No cylinders"),
            Key::Shown => ("已显示", "Shown"),
            Key::LevelCity => ("全市", "City"),
            Key::LevelDistrict => ("区县", "District"),
            Key::LevelEnterprise => ("企业", "Enterprise"),
            Key::LevelStation => ("站点", "Station"),
            Key::ScopeNotFound => (
                "未找到，或不在您的管辖范围内",
                "Not found, or outside your scope",
            ),
            Key::FigureHint => (
                "点击数字查看对应气瓶清单",
                "Click a figure for its list of cylinders",
            ),
            Key::NoteRequired => (
                "紧急告警须填写处置说明",
                "A note is required for a critical alert",
            ),
            Key::KpiCirculation => ("流通气瓶", "Cylinders in circulation"),
            Key::KpiFillingsToday => ("今日充装", "Fillings today"),
            Key::KpiRefusalsToday => ("今日拒充", "Refusals today"),
            Key::KpiOpenAlerts => ("未处理告警", "Open alerts"),
            Key::KpiOnRoad => ("在途车辆", "Vehicles on the road"),
            Key::KpiLostDetail => ("流失", "lost"),
            Key::KpiOnlineDetail => ("在线", "online"),
            Key::ChartFillings => ("今日每小时充装", "Fillings per hour today"),
            Key::ChartCustody => ("气瓶状态", "Custody states"),
            Key::ChartAlertKinds => ("今日告警类型", "Alerts by kind today"),
            Key::ChartTopEnterprises => ("违规气瓶最多的企业", "Top enterprises by violations"),
            Key::InStockOther => ("在库及其他", "In stock, other"),
            Key::NoData => ("暂无数据", "No data"),
            Key::WallReconnecting => (
                "连接中断，正在重新连接…（显示最后收到的数据）",
                "Connection lost, reconnecting… (showing the last data received)",
            ),
            Key::OpenStatistics => ("查看统计", "Statistics"),
            Key::DensityLayer => ("气瓶密度", "Cylinder density"),
            Key::CylindersUnit => ("只气瓶", "cylinders"),
            Key::SiteStation => ("站点", "Station"),
            Key::SiteCustomer => ("用户", "Customer"),
            Key::VehicleLabel => ("车辆", "Vehicle"),
            Key::Speed => ("速度", "Speed"),
            Key::FullStock => ("满瓶库存", "Full stock"),
            Key::ResetView => ("复位", "Reset view"),
            Key::ViewStation => ("站点详情", "Station page"),
        };
        match self {
            Self::Zh => zh,
            Self::En => en,
        }
    }
}

/// The language context: the current language and a way to change it.
#[derive(Clone, PartialEq)]
pub struct LangContext {
    pub lang: Lang,
    pub set: Callback<Lang>,
}

/// The current language context (Chinese if none is provided).
#[hook]
pub fn use_lang() -> LangContext {
    use_context::<LangContext>().unwrap_or(LangContext {
        lang: Lang::Zh,
        set: Callback::noop(),
    })
}

/// Sets `<html lang>` (fonts and screen readers follow it).
pub fn set_document_lang(code: &str) {
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("lang", code);
    }
}
