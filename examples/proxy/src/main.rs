//! iamgate-proxy: a small HTTP forward proxy that decides each request with iamgate before forwarding it.
//!
//! ```text
//! iamgate-proxy --bundle BUNDLE.json --action ACTION --resource ARN [--principal ARN] [--listen ADDR]
//!               [--vpc-id VPC] [--trusted-endpoint-header NAME] [--context KEY=VALUE]... [--poll-ms MS]
//! ```
//!
//! Each request is one IAM request: the configured action, resource and principal, from the network path the
//! connection came by. By default the client reached AWS's public endpoint: `aws:SourceIp` is the client's
//! address (an IPv4-mapped IPv6 address is read as IPv4). With `--trusted-endpoint-header NAME`, a request
//! carrying that header came through the VPC endpoint it names: `aws:SourceVpce` is the header, `aws:SourceVpc`
//! the `--vpc-id`, `aws:VpcSourceIp` the client's address, and there is no `aws:SourceIp`. Trust that header only
//! when a component you run sets it and strips it from clients' requests.
//!
//! An allowed request is forwarded (absolute-form URI, plain HTTP/1.1). A denied one gets 403 with
//! `x-iamgate-decision` and `x-iamgate-statement` (the deciding statement); a request that cannot be decided
//! gets 403 with `x-iamgate-error`. The bundle is reloaded on SIGHUP and when the file changes (checked every
//! `--poll-ms`, 500 by default; 0 turns the check off); a bundle that does not load leaves the last good one in
//! force. Events are printed one per line on stdout: `listening on ADDR`, `reloaded generation N`,
//! `reload failed: ...`.

mod proxy;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match proxy::Config::from_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("iamgate-proxy: {e}");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("iamgate-proxy: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(proxy::run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("iamgate-proxy: {e}");
            ExitCode::FAILURE
        }
    }
}
