//! `cylwatch bench-fences`: the cost per fix of the fence stage (stages 2–3 without I/O:
//! containing fences, fences passed through since the previous fix, the transition diff) over
//! many fences, against two baselines in the same process on the same fences and fixes:
//! a bare rstar + geo point query (the least any R-tree answer costs), and one PostGIS
//! `ST_Intersects` query per fix on a GiST-indexed table (what the stage would cost asking
//! the database). Prints one line of JSON.

use crate::rules::fences::{circle, step, Fence, FenceIndex, FenceKind, Inside};
use anyhow::Context;
use geo::{Covers, MultiPolygon, Point, Polygon};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rstar::{RTree, RTreeObject, AABB};
use std::time::Instant;

/// `cylwatch bench-fences` options.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Fences (squares and circles of 30–300 m around Zhengzhou).
    #[arg(long, default_value_t = 16_000)]
    pub fences: usize,
    /// Vehicles, each driving `--fixes-per-vehicle` fixes.
    #[arg(long, default_value_t = 200)]
    pub vehicles: usize,
    #[arg(long, default_value_t = 500)]
    pub fixes_per_vehicle: usize,
    /// Fixes asked of PostGIS one query at a time (a sample: it is slow).
    #[arg(long, default_value_t = 5_000)]
    pub postgis_fixes: usize,
    /// A scratch database with PostGIS (a table `bench_fences` is created in it).
    #[arg(long, env = "CYLWATCH_BENCH_DATABASE_URL", hide_env_values = true)]
    pub database_url: String,
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
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
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
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
    // Alternate the two, ROUNDS times each (the first round warms the caches); the median
    // of each is reported.
    let (mut stage_times, mut bare_times) = (Vec::new(), Vec::new());
    let (mut transitions, mut bare_hits) = (0, 0);
    for _ in 0..ROUNDS {
        let (t, n) = run_stage();
        stage_times.push(t);
        transitions = n;
        let (t, n) = run_bare();
        bare_times.push(t);
        bare_hits = n;
    }
    stage_times.sort();
    bare_times.sort();
    let stage = stage_times[ROUNDS / 2];
    let bare_time = bare_times[ROUNDS / 2];

    // PostGIS, one query per fix.
    let pool = crate::store::connect(&args.database_url, 2).await?;
    sqlx::query("DROP TABLE IF EXISTS bench_fences")
        .execute(&pool)
        .await?;
    sqlx::query("CREATE TABLE bench_fences (id int PRIMARY KEY, geom geometry(MultiPolygon, 4326) NOT NULL)")
        .execute(&pool)
        .await?;
    for (chunk_no, chunk) in fences.chunks(1000).enumerate() {
        let ids: Vec<i32> = (0..chunk.len())
            .map(|i| i32::try_from(chunk_no * 1000 + i).unwrap_or(i32::MAX))
            .collect();
        let wkt: Vec<String> = chunk.iter().map(|f| wkt(&f.shape)).collect();
        sqlx::query(
            "INSERT INTO bench_fences SELECT id, ST_Multi(ST_GeomFromText(w, 4326)) \
             FROM UNNEST($1::int[], $2::text[]) AS t(id, w)",
        )
        .bind(&ids)
        .bind(&wkt)
        .execute(&pool)
        .await
        .context("loading the fences into PostGIS")?;
    }
    sqlx::query("CREATE INDEX ON bench_fences USING gist (geom)")
        .execute(&pool)
        .await?;
    sqlx::query("ANALYZE bench_fences").execute(&pool).await?;
    let sample: Vec<(f64, f64)> = tracks
        .iter()
        .flatten()
        .copied()
        .take(args.postgis_fixes)
        .collect();
    let start = Instant::now();
    let mut pg_hits = 0usize;
    for p in &sample {
        let ids: Vec<i32> = sqlx::query_scalar(
            "SELECT id FROM bench_fences WHERE ST_Intersects(geom, ST_SetSRID(ST_Point($1, $2), 4326))",
        )
        .bind(p.0)
        .bind(p.1)
        .fetch_all(&pool)
        .await?;
        pg_hits += ids.len();
    }
    let pg_time = start.elapsed();
    sqlx::query("DROP TABLE bench_fences")
        .execute(&pool)
        .await?;
    // The same sample through the bare index, for a like-for-like hit count.
    let sample_bare_hits: usize = sample
        .iter()
        .map(|p| {
            let point = Point::new(p.0, p.1);
            bare.locate_in_envelope_intersecting(&AABB::from_point([p.0, p.1]))
                .filter(|b| b.polygon.covers(&point))
                .count()
        })
        .sum();

    let per = |d: std::time::Duration, n: usize| {
        d.as_secs_f64() * 1e9 / f64::from(u32::try_from(n.max(1)).unwrap_or(u32::MAX))
    };
    let stage_ns = per(stage, fixes);
    let bare_ns = per(bare_time, fixes);
    let pg_ns = per(pg_time, sample.len());
    println!(
        "{}",
        serde_json::json!({
            "fences": args.fences, "fixes": fixes, "transitions": transitions,
            "stage_ns_per_fix": stage_ns.round(), "bare_ns_per_fix": bare_ns.round(),
            "postgis_ns_per_fix": pg_ns.round(), "postgis_fixes": sample.len(),
            "bare_hits": bare_hits, "postgis_hits": pg_hits, "bare_hits_on_postgis_sample": sample_bare_hits,
            "stage_over_bare": stage_ns / bare_ns, "postgis_over_stage": pg_ns / stage_ns,
        })
    );
    Ok(())
}

fn wkt(shape: &MultiPolygon<f64>) -> String {
    let ring = |r: &geo::LineString<f64>| {
        let points: Vec<String> = r.coords().map(|c| format!("{} {}", c.x, c.y)).collect();
        format!("({})", points.join(","))
    };
    let polygons: Vec<String> = shape
        .iter()
        .map(|p| {
            let mut rings = vec![ring(p.exterior())];
            rings.extend(p.interiors().iter().map(ring));
            format!("({})", rings.join(","))
        })
        .collect();
    format!("MULTIPOLYGON({})", polygons.join(","))
}
