//! The `borderzone` command line: a thin layer over the library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use borderzone::io::ReadOptions;
use borderzone::jobs::zone::{run_zone, selection_label, ZoneOptions, ZoneSummary};
use borderzone::settlement::IdentityFields;
use borderzone::zone::PolygonMode;
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "borderzone",
    version,
    about = "Exact border-zone analysis on the WGS84 ellipsoid"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Which settlements lie within N km of the border (exact WGS84 geodesic distance).
    Zone(Box<ZoneArgs>),
    /// The whole analysis on the embedded Kazakh data (data/kz) into out/.
    Run {
        /// Output folder.
        #[arg(long, default_value = "out")]
        out: PathBuf,
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
}

fn print_summary(s: &ZoneSummary, distance_km: f64, selection: &str) {
    println!(
        "{} settlements, {} within {distance_km} km of the border ({selection}); {} border segments; {:.2} s",
        s.settlements, s.in_zone, s.border_segments, s.elapsed_s
    );
    for (n, c) in &s.in_zone_by_neighbour {
        println!("  nearest {n}: {c}");
    }
    for f in &s.files {
        println!("  wrote {}", f.display());
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
        }
        Command::Run { out } => {
            let data = embedded_data();
            let opts = ZoneOptions {
                border: data.join("border_lines.geojson"),
                neighbour_field: "neighbour".into(),
                neighbours: vec![],
                settlements: data.join("settlements_geonames.geojson"),
                read: ReadOptions::default(),
                identity: IdentityFields {
                    id_field: Some("geonameid".into()),
                    name_field: Some("name".into()),
                },
                distance_m: 20_000.0,
                polygon_mode: PolygonMode::AnyPart,
                country: Some(data.join("country.geojson")),
                out_dir: out,
            };
            let summary = run_zone(&opts).context("run on the embedded data failed")?;
            print_summary(&summary, 20.0, "all");
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
