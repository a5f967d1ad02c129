//! Refusals by rule as horizontal bars: every rule in a fixed order, so the chart on a wall
//! keeps its shape and a rule that starts refusing stands out where it always is.

use crate::i18n::{use_lang, Key};
use crate::labels::{self, FILLING_RULES};
use shared::filling::RuleCount;
use yew::prelude::*;

/// Chart properties: the day's refusals per rule (a refusal with two rules counts for both).
#[derive(Properties, PartialEq)]
pub struct RuleChartProps {
    pub counts: Vec<RuleCount>,
}

/// Every known rule with its count, then any rule the server named that this build does not
/// know.
pub fn rows(counts: &[RuleCount]) -> Vec<(String, i64)> {
    let count_of = |rule: &str| {
        counts
            .iter()
            .filter(|c| c.rule == rule)
            .map(|c| c.count)
            .sum::<i64>()
    };
    let mut rows: Vec<(String, i64)> = FILLING_RULES
        .iter()
        .map(|r| ((*r).to_owned(), count_of(r)))
        .collect();
    for c in counts {
        if !rows.iter().any(|(r, _)| *r == c.rule) {
            rows.push((c.rule.clone(), count_of(&c.rule)));
        }
    }
    rows
}

/// The chart.
#[component]
pub fn RuleChart(props: &RuleChartProps) -> Html {
    let lang = use_lang().lang;
    let rows = rows(&props.counts);
    let max = rows.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let items = rows.into_iter().map(|(rule, count)| {
        // Whole percents: a CSS width, no float formatting noise.
        let width = (count.clamp(0, max) * 100) / max;
        let name = labels::filling_rule(lang, &rule).unwrap_or_default();
        html! {
            <li class={classes!("rule", (count == 0).then_some("zero"))}
                data-rule={rule.clone()} data-count={count.to_string()}
                title={labels::filling_rule_line(lang, &rule)}>
                <span class="rule-fill" style={format!("width: {width}%")}></span>
                <span class="rule-code">{ rule }</span>
                <span class="rule-name">{ name }</span>
                <span class="rule-count">{ count }</span>
            </li>
        }
    });
    let none = props.counts.iter().all(|c| c.count == 0);
    html! {
        <>
            <ul id="refusals-by-rule" class="rule-chart">{ for items }</ul>
            if none { <p class="notice">{ lang.t(Key::NoRefusals) }</p> }
        </>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_is_charted_in_order_and_unknown_ones_follow() {
        let counts = vec![
            RuleCount {
                rule: "R10".into(),
                count: 3,
            },
            RuleCount {
                rule: "X42".into(),
                count: 1,
            },
        ];
        let rows = rows(&counts);
        assert_eq!(rows.len(), FILLING_RULES.len() + 1);
        assert_eq!(rows[0], ("R00".to_owned(), 0));
        assert_eq!(rows[10], ("R10".to_owned(), 3));
        assert_eq!(rows[13], ("R13".to_owned(), 0));
        assert_eq!(rows[14], ("R14".to_owned(), 0));
        assert_eq!(rows[15], ("R15".to_owned(), 0));
        assert_eq!(rows[16], ("R16".to_owned(), 0));
        assert_eq!(rows[17], ("E01".to_owned(), 0));
        assert_eq!(rows[18], ("E02".to_owned(), 0));
        assert_eq!(rows[19], ("X42".to_owned(), 1));
    }
}
