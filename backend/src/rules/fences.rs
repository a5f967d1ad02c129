//! Stages 2 and 3 of the live pipeline, without I/O: which fences contain a position (an R-tree
//! of the fences' bounding boxes, then exact `geo` predicates) and what changed since the
//! vehicle's previous position (enter, exit, cross, dwell).

use chrono::{DateTime, Duration, Utc};
use geo::{Coord, Covers, Intersects, Line, MultiPolygon, Point, Polygon};
use rstar::{RTree, RTreeObject, AABB};

/// What a fence marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FenceKind {
    /// A registered site drawn as a geofence (a warehouse, a yard).
    Site,
    Restricted,
    /// A route corridor for the vehicles it lists.
    Corridor,
    /// A station's circle (its location and radius).
    Station,
    /// A customer's premises (its registered location, 50 m).
    Customer,
}

impl FenceKind {
    /// The kind with that stored name.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "site" => Self::Site,
            "restricted" => Self::Restricted,
            "corridor" => Self::Corridor,
            "station" => Self::Station,
            "customer" => Self::Customer,
            _ => return None,
        })
    }

    /// Whether being inside means being at a known site.
    pub fn is_site(self) -> bool {
        matches!(self, Self::Site | Self::Station | Self::Customer)
    }
}

/// One fence.
#[derive(Debug, Clone)]
pub struct Fence {
    /// `geofence:<id>`, `station:<code>`, `customer:<code>`.
    pub key: String,
    pub kind: FenceKind,
    pub name: String,
    pub enterprise_code: Option<String>,
    /// For a corridor: the vehicles that must keep to it.
    pub vehicles: Vec<String>,
    pub shape: MultiPolygon<f64>,
}

struct Entry {
    index: usize,
    envelope: AABB<[f64; 2]>,
}

impl RTreeObject for Entry {
    type Envelope = AABB<[f64; 2]>;

    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

/// Every fence, indexed by bounding box.
pub struct FenceIndex {
    fences: Vec<Fence>,
    tree: RTree<Entry>,
    by_key: std::collections::HashMap<String, usize>,
}

impl FenceIndex {
    /// Indexes the fences (bulk-loaded); a fence without any point is left out.
    pub fn new(fences: Vec<Fence>) -> Self {
        let entries = fences
            .iter()
            .enumerate()
            .filter_map(|(index, fence)| {
                let mut coords = fence
                    .shape
                    .iter()
                    .flat_map(|p| p.exterior().coords().copied());
                let first = coords.next()?;
                let (lo, hi) =
                    coords.fold(([first.x, first.y], [first.x, first.y]), |(lo, hi), c| {
                        (
                            [lo[0].min(c.x), lo[1].min(c.y)],
                            [hi[0].max(c.x), hi[1].max(c.y)],
                        )
                    });
                Some(Entry {
                    index,
                    envelope: AABB::from_corners(lo, hi),
                })
            })
            .collect();
        let by_key = fences
            .iter()
            .enumerate()
            .map(|(i, f)| (f.key.clone(), i))
            .collect();
        Self {
            fences,
            tree: RTree::bulk_load(entries),
            by_key,
        }
    }

    /// How many fences.
    pub fn len(&self) -> usize {
        self.fences.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.fences.is_empty()
    }

    /// The fence at `index` (as returned by the queries).
    pub fn fence(&self, index: usize) -> Option<&Fence> {
        self.fences.get(index)
    }

    /// The fence with that key.
    pub fn by_key(&self, key: &str) -> Option<&Fence> {
        self.by_key.get(key).and_then(|&i| self.fences.get(i))
    }

    /// The fences that contain the position (the boundary counts as inside).
    pub fn containing(&self, lon: f64, lat: f64) -> Vec<usize> {
        let point = Point::new(lon, lat);
        self.tree
            .locate_in_envelope_intersecting(&AABB::from_point([lon, lat]))
            .filter(|e| self.fences[e.index].shape.covers(&point))
            .map(|e| e.index)
            .collect()
    }

    /// The fences the straight segment between two positions passes through.
    pub fn touched_by(&self, from: (f64, f64), to: (f64, f64)) -> Vec<usize> {
        let line = Line::new(
            Coord {
                x: from.0,
                y: from.1,
            },
            Coord { x: to.0, y: to.1 },
        );
        let envelope = AABB::from_corners([from.0, from.1], [to.0, to.1]);
        self.tree
            .locate_in_envelope_intersecting(&envelope)
            .filter(|e| self.fences[e.index].shape.intersects(&line))
            .map(|e| e.index)
            .collect()
    }
}

/// A vehicle inside a fence since `entered_at`; `dwell_noted` once its dwell was reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inside {
    pub fence: String,
    pub entered_at: DateTime<Utc>,
    pub dwell_noted: bool,
}

/// What happened between two positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transition {
    Enter,
    Exit,
    /// Passed through between two fixes, inside at neither.
    Cross,
    /// Inside longer than the dwell limit (once per stay).
    Dwell,
}

impl Transition {
    /// The stable snake_case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Enter => "enter",
            Self::Exit => "exit",
            Self::Cross => "cross",
            Self::Dwell => "dwell",
        }
    }
}

/// The vehicle's fences after a new position at `at`: inside `now` (fence keys), having
/// passed through `touched` on the way from the previous position. Returns the new state and
/// the transitions, exits first, then entries, crossings and dwells, each in key order.
pub fn step(
    before: &[Inside],
    now: &[String],
    touched: &[String],
    at: DateTime<Utc>,
    dwell: Duration,
) -> (Vec<Inside>, Vec<(String, Transition)>) {
    let was = |key: &String| before.iter().any(|i| &i.fence == key);
    let mut transitions = Vec::new();
    let mut exits: Vec<&Inside> = before.iter().filter(|i| !now.contains(&i.fence)).collect();
    exits.sort_by(|a, b| a.fence.cmp(&b.fence));
    transitions.extend(exits.iter().map(|i| (i.fence.clone(), Transition::Exit)));
    let mut after = Vec::with_capacity(now.len());
    let mut keys: Vec<&String> = now.iter().collect();
    keys.sort();
    keys.dedup();
    for key in &keys {
        match before.iter().find(|i| &i.fence == *key) {
            Some(inside) => after.push(inside.clone()),
            None => {
                transitions.push(((*key).clone(), Transition::Enter));
                after.push(Inside {
                    fence: (*key).clone(),
                    entered_at: at,
                    dwell_noted: false,
                });
            }
        }
    }
    let mut crossed: Vec<&String> = touched
        .iter()
        .filter(|k| !was(k) && !now.contains(k))
        .collect();
    crossed.sort();
    crossed.dedup();
    transitions.extend(crossed.into_iter().map(|k| (k.clone(), Transition::Cross)));
    for inside in &mut after {
        if !inside.dwell_noted && at - inside.entered_at >= dwell {
            inside.dwell_noted = true;
            transitions.push((inside.fence.clone(), Transition::Dwell));
        }
    }
    (after, transitions)
}

/// A circle as a polygon of `segments` sides (metres on the ground, degrees in the result).
pub fn circle(lon: f64, lat: f64, radius_m: f64, segments: u32) -> Polygon<f64> {
    let dlat = radius_m / 111_320.0;
    let dlon = dlat / lat.to_radians().cos().max(1e-6);
    let ring: Vec<Coord<f64>> = (0..=segments)
        .map(|i| {
            let a = std::f64::consts::TAU * f64::from(i) / f64::from(segments);
            Coord {
                x: lon + dlon * a.cos(),
                y: lat + dlat * a.sin(),
            }
        })
        .collect();
    Polygon::new(ring.into(), Vec::new())
}

/// A GeoJSON Polygon or MultiPolygon geometry as shapes; `None` for anything else.
pub fn from_geojson(geometry: &serde_json::Value) -> Option<MultiPolygon<f64>> {
    fn ring(value: &serde_json::Value) -> Option<geo::LineString<f64>> {
        value
            .as_array()?
            .iter()
            .map(|p| {
                let p = p.as_array()?;
                Some(Coord {
                    x: p.first()?.as_f64()?,
                    y: p.get(1)?.as_f64()?,
                })
            })
            .collect::<Option<Vec<_>>>()
            .map(Into::into)
    }
    fn polygon(value: &serde_json::Value) -> Option<Polygon<f64>> {
        let mut rings = value.as_array()?.iter().map(ring);
        let exterior = rings.next()??;
        let interiors = rings.collect::<Option<Vec<_>>>()?;
        Some(Polygon::new(exterior, interiors))
    }
    let coordinates = geometry.get("coordinates")?;
    match geometry.get("type")?.as_str()? {
        "Polygon" => Some(MultiPolygon(vec![polygon(coordinates)?])),
        "MultiPolygon" => coordinates
            .as_array()?
            .iter()
            .map(polygon)
            .collect::<Option<Vec<_>>>()
            .map(MultiPolygon),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(key: &str, kind: FenceKind, x0: f64, y0: f64, size: f64) -> Fence {
        let geometry = serde_json::json!({"type": "Polygon", "coordinates": [[
            [x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]]});
        Fence {
            key: key.into(),
            kind,
            name: key.into(),
            enterprise_code: None,
            vehicles: Vec::new(),
            shape: from_geojson(&geometry).unwrap_or_else(|| MultiPolygon(Vec::new())),
        }
    }

    fn keys(index: &FenceIndex, found: Vec<usize>) -> Vec<String> {
        let mut keys: Vec<String> = found
            .into_iter()
            .filter_map(|i| index.fence(i).map(|f| f.key.clone()))
            .collect();
        keys.sort();
        keys
    }

    #[test]
    fn the_index_answers_as_a_plain_scan_does() {
        let fences = vec![
            square("a", FenceKind::Site, 0.0, 0.0, 1.0),
            square("b", FenceKind::Restricted, 0.5, 0.5, 1.0),
            square("c", FenceKind::Corridor, 5.0, 5.0, 1.0),
        ];
        let index = FenceIndex::new(fences.clone());
        for (x, y) in [
            (0.2, 0.2),
            (0.7, 0.7),
            (1.2, 1.2),
            (3.0, 3.0),
            (5.5, 5.5),
            (1.0, 0.5),
        ] {
            let plain: Vec<String> = fences
                .iter()
                .filter(|f| f.shape.covers(&Point::new(x, y)))
                .map(|f| f.key.clone())
                .collect();
            assert_eq!(keys(&index, index.containing(x, y)), plain, "({x}, {y})");
        }
        // A segment from (3, 3) to (7, 7) passes through c only.
        assert_eq!(
            keys(&index, index.touched_by((3.0, 3.0), (7.0, 7.0))),
            ["c"]
        );
        assert!(index.containing(-1.0, -1.0).is_empty());
    }

    #[test]
    fn a_timed_track_through_fences() {
        let t = |s: i64| DateTime::<Utc>::from_timestamp(1_795_000_000 + s, 0).unwrap_or_default();
        let dwell = Duration::minutes(20);
        let s = |k: &str| k.to_owned();
        // Enter a.
        let (state, tr) = step(&[], &[s("a")], &[s("a")], t(0), dwell);
        assert_eq!(tr, [(s("a"), Transition::Enter)]);
        // Still in a after 10 min: nothing; after 20 min: dwell, once.
        let (state, tr) = step(&state, &[s("a")], &[s("a")], t(600), dwell);
        assert!(tr.is_empty());
        let (state, tr) = step(&state, &[s("a")], &[s("a")], t(1200), dwell);
        assert_eq!(tr, [(s("a"), Transition::Dwell)]);
        let (state, tr) = step(&state, &[s("a")], &[s("a")], t(1800), dwell);
        assert!(tr.is_empty());
        // Out of a, through b, into c.
        let (state, tr) = step(&state, &[s("c")], &[s("a"), s("b"), s("c")], t(1900), dwell);
        assert_eq!(
            tr,
            [
                (s("a"), Transition::Exit),
                (s("c"), Transition::Enter),
                (s("b"), Transition::Cross)
            ]
        );
        assert_eq!(state.len(), 1);
        assert_eq!(state[0].entered_at, t(1900));
    }

    #[test]
    fn circles_have_their_radius() {
        let c = circle(113.6, 34.7, 100.0, 32);
        let ring = c.exterior();
        for p in ring.coords() {
            let d = crate::rules::gps::distance_m(113.6, 34.7, p.x, p.y);
            assert!((99.0..101.0).contains(&d), "{d}");
        }
    }
}
