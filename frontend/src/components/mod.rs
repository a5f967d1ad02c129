//! Reusable pieces of the pages, one component per file.

pub mod alert_detail;
pub mod alert_feed;
pub mod alert_filters;
pub mod alert_map;
pub mod archive;
pub mod code_search;
pub mod compliance_bars;
pub mod cylinder_list;
pub mod decision_table;
pub mod district_panel;
pub mod gun_panel;
pub mod header;
pub mod inventory_table;
pub mod kpi;
pub mod map;
pub mod recent_alerts;
pub mod record_form;
pub mod record_list;
pub mod registry_table;
pub mod revision_list;
pub mod rule_chart;
pub mod shell;
pub mod timeline;
pub mod trajectory;
pub mod wall_alerts;
pub mod wall_chart;
