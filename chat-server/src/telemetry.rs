//! Log lines and, with `--otlp-endpoint` (the `otel` feature), trace export: every span the
//! server records at `info` and up (one per HTTP request, named by its method and route)
//! goes to an OpenTelemetry collector over OTLP/HTTP, in batches, from a background thread.

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::LogFormat;

/// What must be flushed before the process exits.
#[derive(Default)]
pub struct Telemetry {
    #[cfg(feature = "otel")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Telemetry {
    /// Sends the spans still buffered (called at shutdown).
    pub fn flush(self) {
        #[cfg(feature = "otel")]
        if let Some(provider) = self.provider
            && let Err(error) = provider.shutdown()
        {
            eprintln!("chat-server: the last spans were not exported: {error}");
        }
    }
}

/// Installs logging (`RUST_LOG`, default `info`) and, when `otlp_endpoint` is given, trace
/// export to it (its own filter: `info` and up, whatever `RUST_LOG` says of the logs).
pub fn init(format: LogFormat, otlp_endpoint: Option<&str>) -> Result<Telemetry, String> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let logs = match format {
        LogFormat::Text => tracing_subscriber::fmt::layer().boxed(),
        LogFormat::Json => tracing_subscriber::fmt::layer().json().boxed(),
    };
    let registry = tracing_subscriber::registry().with(logs.with_filter(filter));
    match otlp_endpoint {
        None => {
            registry.init();
            Ok(Telemetry::default())
        }
        #[cfg(feature = "otel")]
        Some(endpoint) => {
            use opentelemetry::trace::TracerProvider as _;
            let provider = otlp_provider(endpoint)?;
            let tracer = provider.tracer("chat-server");
            let spans = tracing_opentelemetry::layer().with_tracer(tracer);
            registry.with(spans.with_filter(LevelFilter::INFO)).init();
            Ok(Telemetry {
                provider: Some(provider),
            })
        }
        #[cfg(not(feature = "otel"))]
        Some(_) => Err("--otlp-endpoint: this build has no trace export (feature `otel`)".into()),
    }
}

/// Batches spans to `endpoint` (`http://collector:4318/v1/traces`), as service `chat-server`.
#[cfg(feature = "otel")]
fn otlp_provider(endpoint: &str) -> Result<opentelemetry_sdk::trace::SdkTracerProvider, String> {
    use opentelemetry_otlp::WithExportConfig;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(endpoint)
        .build()
        .map_err(|error| format!("--otlp-endpoint {endpoint:?}: {error}"))?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name("chat-server")
        .build();
    Ok(opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}
