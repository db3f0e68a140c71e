//! The `borderzone` command line: a thin layer over the library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use std::io::IsTerminal;

use borderzone::config::Config;
use borderzone::io::ReadOptions;
use borderzone::jobs::run::run_batch;
use borderzone::jobs::zone::{run_zone, selection_label, ZoneOptions, ZoneSummary};
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
    /// The batch analysis of a configuration (default: the embedded data/kz/analysis.toml).
    Run {
        /// Configuration file (TOML).
        config: Option<PathBuf>,
        /// Output folder (default: the configuration's output_dir).
        #[arg(long)]
        out: Option<PathBuf>,
    },
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
    /// Zone width in kilometres.
    #[arg(long, default_value_t = 20.0)]
    distance_km: f64,
    /// How polygons are placed: any-part, centroid or share.
    #[arg(long, default_value = "any-part")]
    polygon_mode: PolygonMode,
    /// Country outline: also write the zone strip (zone.geojson).
    #[arg(long)]
    country: Option<PathBuf>,
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
                read: ReadOptions {
                    lon_field: a.lon_field,
                    lat_field: a.lat_field,
                    layer: a.layer,
                    crs: a.crs,
                },
                identity: IdentityFields {
                    id_field: a.id_field,
                    name_field: Some(a.name_field),
                },
                distance_m: a.distance_km * 1000.0,
                polygon_mode: a.polygon_mode,
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
                s.run_id, s.settlements, s.elapsed_s
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
