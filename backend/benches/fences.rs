//! `cargo bench -p cylwatch --bench fences`: the cost per fix of the fence stage (stages 2–3
//! without I/O: containing fences, fences passed through since the previous fix, the
//! transition diff) over many fences, against a bare rstar + geo point query on the same
//! fences and fixes (the least any R-tree answer costs). In memory, no database. Prints one
//! line of JSON. Sizes from the environment: `BENCH_FENCES` (16,000 squares and circles of
//! 30–300 m around Zhengzhou), `BENCH_VEHICLES` (200) each driving `BENCH_FIXES_PER_VEHICLE`
//! fixes (500), `BENCH_SEED` (7). Run by `cargo test` (without `--bench`) it makes one quick
//! round of a small city, so that the benchmark keeps building and running.

use cylwatch::rules::fences::{circle, step, Fence, FenceIndex, FenceKind, Inside};
use geo::{Covers, MultiPolygon, Point, Polygon};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rstar::{RTree, RTreeObject, AABB};
use std::time::{Duration, Instant};

/// The sizes measured.
struct BenchArgs {
    fences: usize,
    vehicles: usize,
    fixes_per_vehicle: usize,
    seed: u64,
    rounds: usize,
}

impl BenchArgs {
    /// `cargo bench` passes `--bench`; `cargo test` does not (a smoke run).
    fn from_env() -> Self {
        let measuring = std::env::args().any(|a| a == "--bench");
        let var = |name: &str, default: usize| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(default)
        };
        if !measuring {
            return Self {
                fences: 500,
                vehicles: 5,
                fixes_per_vehicle: 50,
                seed: 7,
                rounds: 1,
            };
        }
        Self {
            fences: var("BENCH_FENCES", 16_000),
            vehicles: var("BENCH_VEHICLES", 200),
            fixes_per_vehicle: var("BENCH_FIXES_PER_VEHICLE", 500),
            seed: std::env::var("BENCH_SEED")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(7),
            rounds: ROUNDS,
        }
    }
}

/// Rounds of the in-memory measurements.
const ROUNDS: usize = 5;

const BBOX: ((f64, f64), (f64, f64)) = ((113.45, 34.55), (113.95, 34.95));

fn fences(n: usize, rng: &mut StdRng) -> Vec<Fence> {
    (0..n)
        .map(|i| {
            let lon = rng.random_range(BBOX.0 .0..BBOX.1 .0);
            let lat = rng.random_range(BBOX.0 .1..BBOX.1 .1);
            let size_m = rng.random_range(30.0..300.0);
            let shape = if i % 2 == 0 {
                circle(lon, lat, size_m, 32)
            } else {
                let d = size_m / 111_320.0;
                Polygon::new(
                    vec![
                        (lon, lat),
                        (lon + d, lat),
                        (lon + d, lat + d),
                        (lon, lat + d),
                        (lon, lat),
                    ]
                    .into(),
                    Vec::new(),
                )
            };
            Fence {
                key: format!("geofence:{i}"),
                kind: FenceKind::Site,
                name: format!("f{i}"),
                enterprise_code: None,
                vehicles: Vec::new(),
                shape: MultiPolygon(vec![shape]),
            }
        })
        .collect()
}

/// Random walks: 30 km/h-ish steps of about 100 m.
fn tracks(vehicles: usize, per: usize, rng: &mut StdRng) -> Vec<Vec<(f64, f64)>> {
    (0..vehicles)
        .map(|_| {
            let mut p = (
                rng.random_range(BBOX.0 .0..BBOX.1 .0),
                rng.random_range(BBOX.0 .1..BBOX.1 .1),
            );
            (0..per)
                .map(|_| {
                    p.0 += rng.random_range(-0.0012..0.0012);
                    p.1 += rng.random_range(-0.0009..0.0009);
                    p
                })
                .collect()
        })
        .collect()
}

struct Bare {
    polygon: MultiPolygon<f64>,
    envelope: AABB<[f64; 2]>,
}

impl RTreeObject for Bare {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

/// Runs the benchmark and prints its JSON line.
fn main() {
    let args = BenchArgs::from_env();
    let mut rng = StdRng::seed_from_u64(args.seed);
    let fences = fences(args.fences, &mut rng);
    let tracks = tracks(args.vehicles, args.fixes_per_vehicle, &mut rng);
    let fixes: usize = tracks.iter().map(Vec::len).sum();

    // The stage: index queries, crossing, the diff.
    let index = FenceIndex::new(fences.clone());
    let at = chrono::DateTime::<chrono::Utc>::from_timestamp(1_795_000_000, 0).unwrap_or_default();
    let run_stage = || {
        let start = Instant::now();
        let mut transitions = 0usize;
        let (mut now, mut touched) = (Vec::new(), Vec::new());
        for track in &tracks {
            let mut inside: Vec<Inside> = Vec::new();
            let mut prev: Option<(f64, f64)> = None;
            for (i, &p) in track.iter().enumerate() {
                index.around_into(prev, p, &mut now, &mut touched);
                let seconds = i64::try_from(i).unwrap_or(i64::MAX) * 10;
                let tr = step(
                    &mut inside,
                    &now,
                    &touched,
                    at + chrono::Duration::seconds(seconds),
                    chrono::Duration::minutes(20),
                );
                transitions += tr.len();
                prev = Some(p);
            }
        }
        (start.elapsed(), transitions)
    };

    // The bare R-tree + geo point query.
    let bare = RTree::bulk_load(
        fences
            .iter()
            .filter_map(|f| {
                let ring = f.shape.0.first()?.exterior();
                let (mut lo, mut hi) = ([f64::MAX; 2], [f64::MIN; 2]);
                for c in ring.coords() {
                    lo = [lo[0].min(c.x), lo[1].min(c.y)];
                    hi = [hi[0].max(c.x), hi[1].max(c.y)];
                }
                Some(Bare {
                    polygon: f.shape.clone(),
                    envelope: AABB::from_corners(lo, hi),
                })
            })
            .collect(),
    );
    let run_bare = || {
        let start = Instant::now();
        let mut hits = 0usize;
        for &p in tracks.iter().flatten() {
            let point = Point::new(p.0, p.1);
            hits += bare
                .locate_in_envelope_intersecting(&AABB::from_point([p.0, p.1]))
                .filter(|b| b.polygon.covers(&point))
                .count();
        }
        (start.elapsed(), hits)
    };
    // Alternate the two, `rounds` times each (the first round warms the caches); the median
    // of each is reported.
    let (mut stage_times, mut bare_times) = (Vec::new(), Vec::new());
    let (mut transitions, mut bare_hits) = (0, 0);
    for _ in 0..args.rounds {
        let (t, n) = run_stage();
        stage_times.push(t);
        transitions = n;
        let (t, n) = run_bare();
        bare_times.push(t);
        bare_hits = n;
    }
    let median = |mut times: Vec<Duration>| {
        times.sort();
        times.get(times.len() / 2).copied().unwrap_or_default()
    };
    let per = |d: Duration, n: usize| {
        d.as_secs_f64() * 1e9 / f64::from(u32::try_from(n.max(1)).unwrap_or(u32::MAX))
    };
    let stage_ns = per(median(stage_times), fixes);
    let bare_ns = per(median(bare_times), fixes);
    println!(
        "{}",
        serde_json::json!({
            "fences": args.fences, "fixes": fixes, "transitions": transitions,
            "stage_ns_per_fix": stage_ns.round(), "bare_ns_per_fix": bare_ns.round(),
            "bare_hits": bare_hits, "stage_over_bare": stage_ns / bare_ns,
        })
    );
}
