//! The `borderzone` command line: a thin layer over the library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use std::io::IsTerminal;

use borderzone::config::Config;
use borderzone::io::ReadOptions;
use borderzone::jobs::access::{parse_metric, run_access, AccessJobOptions, ServiceLayer};
use borderzone::jobs::run::run_batch;
use borderzone::jobs::zone::{run_zone, selection_label, Distances, ZoneOptions, ZoneSummary};
use borderzone::progress::Progress;
use borderzone::settlement::IdentityFields;
use borderzone::zone::PolygonMode;
use clap::{Parser, Subcommand};

/// Print a line to stdout, ignoring a closed pipe (`borderzone … | head`).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

#[derive(Parser)]
#[command(
    name = "borderzone",
    version,
    about = "Exact border-zone analysis on the WGS84 ellipsoid"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// No progress bars.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Log steps (-v) or details (-vv) to stderr.
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
}

#[derive(Subcommand)]
enum Command {
    /// Which settlements lie within N km of the border (exact WGS84 geodesic distance).
    Zone(Box<ZoneArgs>),
    /// Road distance / travel time to the nearest service of each category, and the regional standards check.
    Access(Box<AccessArgs>),
    /// The batch analysis of a configuration (default: the embedded data/kz/analysis.toml).
    Run {
        /// Configuration file (TOML).
        config: Option<PathBuf>,
        /// Output folder (default: the configuration's output_dir).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// How settlements are identified and, for CSV, located.
#[derive(clap::Args)]
struct SettlementFields {
    /// Attribute holding the settlement id (default: the feature id, else its index).
    #[arg(long)]
    id_field: Option<String>,
    /// Attribute holding the settlement name.
    #[arg(long, default_value = "name")]
    name_field: String,
    /// CSV longitude column (default: lon/lng/longitude/x).
    #[arg(long)]
    lon_field: Option<String>,
    /// CSV latitude column (default: lat/latitude/y).
    #[arg(long)]
    lat_field: Option<String>,
}

impl SettlementFields {
    fn identity(&self) -> IdentityFields {
        IdentityFields {
            id_field: self.id_field.clone(),
            name_field: Some(self.name_field.clone()),
        }
    }
}

#[derive(clap::Args)]
struct ZoneArgs {
    /// Border layer: (Multi)LineStrings or polygons with a neighbour attribute.
    #[arg(long)]
    border: PathBuf,
    /// Keep only the border with this neighbour (repeatable), e.g. CHN.
    #[arg(long = "neighbour", value_name = "ISO3")]
    neighbours: Vec<String>,
    /// Attribute of the border layer that names the neighbour.
    #[arg(long, default_value = "neighbour")]
    neighbour_field: String,
    /// Settlements layer: points, multipoints, polygons or multipolygons.
    #[arg(long)]
    settlements: PathBuf,
    #[command(flatten)]
    fields: SettlementFields,
    /// Zone width in kilometres.
    #[arg(long, default_value_t = 20.0)]
    distance_km: f64,
    /// How polygons are placed: any-part, centroid or share.
    #[arg(long, default_value = "any-part")]
    polygon_mode: PolygonMode,
    /// Which settlements get an exact distance: all; zone (only those in the zone); none
    /// (membership only). With zone/none, points proven inside or outside by certified
    /// cells skip the distance, and a decided_by column (cell/exact) is added.
    #[arg(long, default_value = "all", value_name = "all|zone|none")]
    distances: Distances,
    /// Country outline: also write the zone strip (zone.geojson).
    #[arg(long)]
    country: Option<PathBuf>,
    /// Write settlements.csv only, not settlements.geojson (for very large batches).
    #[arg(long)]
    no_geojson: bool,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
    /// Layer of the settlements source when it has several, e.g. a GeoPackage table (gdal feature).
    #[arg(long)]
    layer: Option<String>,
    /// CRS of the settlements source when it declares none or a wrong one, e.g. EPSG:32642 (gdal feature).
    #[arg(long)]
    crs: Option<String>,
    /// Also write the map layers as gpkg (one GeoPackage, a table per layer) or fgb (a FlatGeobuf per layer).
    #[cfg(feature = "gdal")]
    #[arg(long, value_name = "gpkg|fgb")]
    format: Option<borderzone::io::gdal::VectorFormat>,
}

#[derive(clap::Args)]
#[command(after_help = "\
STANDARDS (--standard, repeatable; the values below are examples only, set your own):
  hospital=60min      nearest hospital within 60 minutes by road
  school=5km,15min    within 5 km OR 15 minutes (either limit passes)
  school=5km+15min    within 5 km AND 15 minutes
  Units: km, m, min, h. Each limit is checked against its own minimum (shortest road
  distance, fastest travel time). A settlement meets the standard when it meets every
  category with a rule; 'no road within X km' and 'unreachable' fail.

CITY OR RURAL: --type-field (default place: city/town = city; village/hamlet/
  isolated_dwelling = rural), else --population-field >= --city-min-population (10000)
  = city. The threshold is a configurable stand-in, not the legal status.

SERVICE LAYERS: --services FILE takes the category from --category-field. For other
  layers use --service-layer FILE[,category=CAT][,category_field=F][,where=FIELD=VALUE]
  [,id_field=F][,name_field=F], e.g.
  --service-layer airports.geojson,category=airport,where=scheduled_service=yes

OUTPUT: access.csv (settlement x category), access_settlements.geojson/.csv,
  standards.csv (shares vs the national targets: 96 % of cities, 71 % of rural
  settlements by 2030), access_manifest.json, routes.geojson with --routes.")]
struct AccessArgs {
    /// Road layer: OpenStreetMap .osm.pbf, or GeoJSON lines (.geojson/.json).
    #[arg(long)]
    roads: PathBuf,
    /// Settlements layer: points or polygons (GeoJSON, NDJSON or CSV).
    #[arg(long)]
    settlements: PathBuf,
    /// Services layer with a category attribute (repeatable).
    #[arg(long = "services", value_name = "FILE")]
    services: Vec<PathBuf>,
    /// Services layer with its own options (repeatable; see below).
    #[arg(long = "service-layer", value_name = "SPEC")]
    service_layers: Vec<ServiceLayer>,
    /// Attribute of --services layers holding the category (e.g. amenity).
    #[arg(long, default_value = "category")]
    category_field: String,
    /// Attribute of --services layers holding the facility id (default: feature id, else FILE#INDEX).
    #[arg(long)]
    service_id_field: Option<String>,
    /// Keep only these service categories (repeatable).
    #[arg(long = "category", value_name = "CATEGORY")]
    categories: Vec<String>,
    #[command(flatten)]
    fields: SettlementFields,
    /// What "nearest" minimises: time or distance.
    #[arg(long, default_value = "time", value_parser = parse_metric)]
    metric: borderzone::network::Metric,
    /// Places farther than this from every road get "no road within X km" (km).
    #[arg(long, default_value_t = 5.0)]
    max_snap_km: f64,
    /// Speed between a place and its road (km/h).
    #[arg(long, default_value_t = 15.0)]
    off_road_kmh: f64,
    /// GeoJSON roads: attribute with the OSM highway class ("" for none).
    #[arg(long, default_value = "highway")]
    road_class_field: String,
    /// GeoJSON roads: attribute with the speed in km/h or an OSM maxspeed ("" for none).
    #[arg(long, default_value = "maxspeed")]
    road_speed_field: String,
    /// GeoJSON roads: join line ends closer than this (m).
    #[arg(long, default_value_t = 0.0)]
    road_snap_m: f64,
    /// OSM roads: also use highway=track.
    #[arg(long)]
    include_tracks: bool,
    /// A standard, e.g. hospital=60min or school=5km,15min (repeatable; see below).
    #[arg(long = "standard", value_name = "CATEGORY=LIMITS")]
    standards: Vec<borderzone::rules::standards::StandardRule>,
    /// Attribute giving the settlement type (city/town vs village/hamlet/isolated_dwelling); "" for none.
    #[arg(long, default_value = "place")]
    type_field: String,
    /// Attribute with the population.
    #[arg(long, default_value = "population")]
    population_field: String,
    /// Without a type attribute value: population from which a settlement is a city.
    #[arg(long, default_value_t = 10_000.0)]
    city_min_population: f64,
    /// Also write routes.geojson (the road route to each nearest facility).
    #[arg(long)]
    routes: bool,
    /// Output folder.
    #[arg(long)]
    out: PathBuf,
}

fn print_summary(s: &ZoneSummary, distance_km: f64, selection: &str) {
    say!(
        "{} settlements, {} within {distance_km} km of the border ({selection}); {} border segments; {:.2} s",
        s.settlements, s.in_zone, s.border_segments, s.elapsed_s
    );
    for (n, c) in &s.in_zone_by_neighbour {
        say!("  nearest {n}: {c}");
    }
    for f in &s.files {
        say!("  wrote {}", f.display());
    }
}

/// The embedded data folder: `data/kz` under the working directory, else
/// under the source tree this binary was built from.
fn embedded_data() -> PathBuf {
    let local = PathBuf::from("data/kz");
    if local.is_dir() {
        local
    } else {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/kz")
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Zone(a) => {
            let opts = ZoneOptions {
                border: a.border,
                neighbour_field: a.neighbour_field,
                neighbours: a.neighbours,
                settlements: a.settlements,
                identity: a.fields.identity(),
                read: ReadOptions {
                    lon_field: a.fields.lon_field,
                    lat_field: a.fields.lat_field,
                    layer: a.layer,
                    crs: a.crs,
                },
                distance_m: a.distance_km * 1000.0,
                polygon_mode: a.polygon_mode,
                distances: a.distances,
                geojson: !a.no_geojson,
                country: a.country,
                out_dir: a.out,
            };
            let summary = run_zone(&opts).context("zone analysis failed")?;
            print_summary(&summary, a.distance_km, &selection_label(&opts.neighbours));
            #[cfg(feature = "gdal")]
            if let Some(format) = a.format {
                let files =
                    borderzone::io::gdal::convert_outputs(format, &opts.out_dir, &summary.files)
                        .context("writing the GDAL outputs failed")?;
                for f in files {
                    say!("  wrote {}", f.display());
                }
            }
        }
        Command::Access(a) => {
            // Arguments → job options (no logic beyond the mapping).
            let a = *a;
            use borderzone::network::access::AccessOptions;
            use borderzone::rules::standards::UrbanRule;
            let non_empty = |s: String| (!s.is_empty()).then_some(s);
            let mut services: Vec<ServiceLayer> = a
                .services
                .into_iter()
                .map(|p| ServiceLayer {
                    id_field: a.service_id_field.clone(),
                    ..ServiceLayer::with_field(p, &a.category_field)
                })
                .collect();
            services.extend(a.service_layers);
            let mut opts = AccessJobOptions {
                settlements: a.settlements,
                identity: a.fields.identity(),
                read: ReadOptions {
                    lon_field: a.fields.lon_field,
                    lat_field: a.fields.lat_field,
                    ..Default::default()
                },
                urban: UrbanRule {
                    type_field: non_empty(a.type_field),
                    population_field: non_empty(a.population_field),
                    city_min_population: a.city_min_population,
                    ..UrbanRule::default()
                },
                services,
                categories: a.categories,
                out_dir: a.out,
                ..Default::default()
            };
            opts.roads.path = a.roads;
            opts.roads.geojson.class_property = non_empty(a.road_class_field);
            opts.roads.geojson.speed_property = non_empty(a.road_speed_field);
            opts.roads.geojson.snap_tolerance_m = a.road_snap_m;
            opts.roads.osm.include_tracks = a.include_tracks;
            opts.params.access = AccessOptions {
                metric: a.metric,
                off_road_speed_kmh: a.off_road_kmh,
                max_snap_m: a.max_snap_km * 1000.0,
                with_routes: a.routes,
            };
            opts.params.rules = a.standards;
            let summary = run_access(&opts).context("access analysis failed")?;
            print!("{summary}");
        }
        Command::Run { config, out } => {
            let path = config.unwrap_or_else(|| embedded_data().join("analysis.toml"));
            let cfg = Config::load(&path)?;
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            let out = out.unwrap_or_else(|| cfg.output_dir.clone());
            let progress = Progress {
                enabled: !cli.quiet && std::io::stderr().is_terminal(),
            };
            let s = run_batch(&cfg, &text, &out, progress)
                .with_context(|| format!("run of {} failed", path.display()))?;
            say!(
                "run {} — {} settlements, {:.2} s",
                s.run_id,
                s.settlements,
                s.elapsed_s
            );
            for (name, eligible, near) in &s.scenarios {
                say!("  {name:<16} eligible {eligible:>5}   near the line {near:>4}");
            }
            say!("  hub candidates {}", s.hubs);
            say!("  {} files in {}", s.files.len(), out.display());
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let level = match cli.verbose {
        0 => tracing::Level::WARN,
        1 => tracing::Level::INFO,
        _ => tracing::Level::DEBUG,
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
