//! The `geneval` binary: everything it does is [`geneval::app::main`].

fn main() -> std::process::ExitCode {
    geneval::app::main()
}
