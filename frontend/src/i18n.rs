//! Chinese first, English second. Every visible string goes through `Lang::t`.

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
    VehiclesOnline,
    Moving,
    LastUpdate,
    Districts,
    Vehicles,
    MapLoading,
    MapFailed,
    NotFound,
    BackToWall,
    SwitchLang,
}

const STORAGE_KEY: &str = "cylwatch.lang";

impl Lang {
    /// `?lang=en|zh` in the URL (for a wall configured by its URL), else the stored choice,
    /// else Chinese.
    pub fn load() -> Self {
        let window = web_sys::window();
        let query = window
            .as_ref()
            .and_then(|w| w.location().search().ok())
            .unwrap_or_default();
        let from_url = query
            .trim_start_matches('?')
            .split('&')
            .find_map(|pair| pair.strip_prefix("lang="))
            .map(str::to_owned);
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
            Key::VehiclesOnline => ("在线车辆", "Vehicles online"),
            Key::Moving => ("行驶中", "Moving"),
            Key::LastUpdate => ("最近更新", "Last update"),
            Key::Districts => ("行政区", "Districts"),
            Key::Vehicles => ("车辆", "vehicles"),
            Key::MapLoading => ("正在加载地图", "Loading the map"),
            Key::MapFailed => ("地图加载失败", "The map could not be loaded"),
            Key::NotFound => ("页面不存在", "Page not found"),
            Key::BackToWall => ("返回指挥大屏", "Back to the wall"),
            Key::SwitchLang => ("English", "中文"),
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
