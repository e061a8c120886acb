fn main() {
    std::process::exit(hls_gen::cli::run());
}
