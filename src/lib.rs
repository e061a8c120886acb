pub mod fixed;
pub mod frontend;
pub mod ir;
pub mod sim;
pub mod cli {
    pub fn run() -> i32 {
        0
    }
}
