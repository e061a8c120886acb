pub mod fixed;
pub mod cli {
    pub fn run() -> i32 {
        0
    }
}
