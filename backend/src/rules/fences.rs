//! Stages 2 and 3 of the live pipeline, without I/O: which fences contain a position (an R-tree
//! of the fences' bounding boxes, then exact `geo` predicates) and what changed since the
//! vehicle's previous position (enter, exit, cross, dwell).

use chrono::{DateTime, Duration, Utc};
use geo::{Coord, Covers, Intersects, Line, MultiPolygon, Point, Polygon};
use rstar::{Envelope, RTree, RTreeObject, AABB};

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
    pub enterprise_code: Option<shared::ids::EnterpriseCode>,
    /// For a corridor: the vehicles that must keep to it.
    pub vehicles: Vec<shared::VehiclePlate>,
    pub shape: MultiPolygon<f64>,
}

impl Fence {
    /// Whether the fence applies to a vehicle of enterprise `owner` (`None`: a vehicle of no
    /// known enterprise): an enterprise's fence to its own vehicles only, a fence of no
    /// enterprise (a regulator's) to every vehicle.
    pub fn applies_to(&self, owner: Option<&str>) -> bool {
        match &self.enterprise_code {
            None => true,
            Some(code) => owner == Some(code.as_str()),
        }
    }
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

    /// The fence with that key.
    pub fn by_key(&self, key: &str) -> Option<&Fence> {
        self.by_key.get(key).and_then(|&i| self.fences.get(i))
    }

    /// For a move to `to` (from `from`, when there was a previous position): the fences that
    /// contain `to`, and the fences the segment passes through — from one walk of the tree over
    /// the segment's bounding box.
    pub fn around(&self, from: Option<(f64, f64)>, to: (f64, f64)) -> (Vec<&str>, Vec<&str>) {
        let (mut now, mut touched) = (Vec::new(), Vec::new());
        self.around_into(from, to, &mut now, &mut touched);
        (now, touched)
    }

    /// `around` into the caller's buffers (cleared first), so that a loop allocates nothing.
    pub fn around_into<'a>(
        &'a self,
        from: Option<(f64, f64)>,
        to: (f64, f64),
        now: &mut Vec<&'a str>,
        touched: &mut Vec<&'a str>,
    ) {
        now.clear();
        touched.clear();
        let start = from.unwrap_or(to);
        let envelope = AABB::from_corners([start.0, start.1], [to.0, to.1]);
        let point = Point::new(to.0, to.1);
        let line = from.map(|f| Line::new(Coord { x: f.0, y: f.1 }, Coord { x: to.0, y: to.1 }));
        for entry in self.tree.locate_in_envelope_intersecting(&envelope) {
            let fence = &self.fences[entry.index];
            let inside = entry.envelope.contains_point(&[to.0, to.1]) && fence.shape.covers(&point);
            if inside {
                now.push(fence.key.as_str());
            }
            if let Some(line) = &line {
                if inside || fence.shape.intersects(line) {
                    touched.push(fence.key.as_str());
                }
            }
        }
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

/// Moves the vehicle's fences (`inside`, updated in place) to a new position at `at`: inside
/// `now` (fence keys), having passed through `touched` on the way from the previous position.
/// Returns the transitions: exits, entries, crossings, dwells, each in key order. A move that
/// changes nothing allocates nothing.
pub fn step(
    inside: &mut Vec<Inside>,
    now: &[&str],
    touched: &[&str],
    at: DateTime<Utc>,
    dwell: Duration,
) -> Vec<(String, Transition)> {
    let was = |key: &str, inside: &[Inside]| inside.iter().any(|i| i.fence == key);
    let mut crossed: Vec<&str> = touched
        .iter()
        .copied()
        .filter(|k| !now.contains(k) && !was(k, inside))
        .collect();
    let mut exits: Vec<String> = Vec::new();
    inside.retain(|i| {
        let stays = now.contains(&i.fence.as_str());
        if !stays {
            exits.push(i.fence.clone());
        }
        stays
    });
    let mut entries: Vec<&str> = now.iter().copied().filter(|k| !was(k, inside)).collect();
    let mut transitions = Vec::new();
    exits.sort_unstable();
    transitions.extend(exits.into_iter().map(|k| (k, Transition::Exit)));
    entries.sort_unstable();
    entries.dedup();
    for key in entries {
        transitions.push((key.to_owned(), Transition::Enter));
        inside.push(Inside {
            fence: key.to_owned(),
            entered_at: at,
            dwell_noted: false,
        });
    }
    crossed.sort_unstable();
    crossed.dedup();
    transitions.extend(
        crossed
            .into_iter()
            .map(|k| (k.to_owned(), Transition::Cross)),
    );
    let mut dwells: Vec<String> = Vec::new();
    for i in inside.iter_mut() {
        if !i.dwell_noted && at - i.entered_at >= dwell {
            i.dwell_noted = true;
            dwells.push(i.fence.clone());
        }
    }
    dwells.sort_unstable();
    transitions.extend(dwells.into_iter().map(|k| (k, Transition::Dwell)));
    transitions
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

    fn containing(index: &FenceIndex, x: f64, y: f64) -> Vec<String> {
        let mut keys: Vec<String> = index
            .around(None, (x, y))
            .0
            .into_iter()
            .map(str::to_owned)
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
            assert_eq!(containing(&index, x, y), plain, "({x}, {y})");
        }
        // A segment from (3, 3) to (7, 7) passes through c only.
        assert_eq!(index.around(Some((3.0, 3.0)), (7.0, 7.0)).1, ["c"]);
        assert!(containing(&index, -1.0, -1.0).is_empty());
    }

    #[test]
    fn a_timed_track_through_fences() {
        let t = |s: i64| DateTime::<Utc>::from_timestamp(1_795_000_000 + s, 0).unwrap_or_default();
        let dwell = Duration::minutes(20);
        let s = |k: &str| k.to_owned();
        // Enter a.
        let mut state = Vec::new();
        let tr = step(&mut state, &["a"], &["a"], t(0), dwell);
        assert_eq!(tr, [(s("a"), Transition::Enter)]);
        // Still in a after 10 min: nothing; after 20 min: dwell, once.
        assert!(step(&mut state, &["a"], &["a"], t(600), dwell).is_empty());
        let tr = step(&mut state, &["a"], &["a"], t(1200), dwell);
        assert_eq!(tr, [(s("a"), Transition::Dwell)]);
        assert!(step(&mut state, &["a"], &["a"], t(1800), dwell).is_empty());
        // Out of a, through b, into c.
        let tr = step(&mut state, &["c"], &["a", "b", "c"], t(1900), dwell);
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
