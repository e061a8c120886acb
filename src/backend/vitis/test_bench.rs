//! The C simulation testbench `NAME_test.cpp` of either interface: the top's ports as the
//! testbench sees them ([`ports`]) and the rendered file ([`add`]). Each sample's line holds every
//! input port's values in port order (channels-last); io_stream ports also carry their pixel
//! type and how many pixels of how many values a frame is, and the testbench writes and reads
//! their streams pixel by pixel.

use serde::Serialize;

use super::render::Renderer;
use crate::arch::stream;
use crate::backend::top::{TopInterface, TopPort};
use crate::backend::{BackendError, Project};

/// How an io_stream port moves one frame.
#[derive(Serialize)]
pub(super) struct Pixels {
    pub pixel_type: String,
    pub transfers: usize,
    pub width: usize,
}

/// A port of the top function as the testbench sees it.
#[derive(Serialize)]
pub(super) struct Port {
    pub name: String,
    /// The testbench's array (`tb_in0`, ...); its stream, in io_stream, is `<var>_s`.
    pub var: String,
    pub cpp_type: String,
    pub size: usize,
    /// Index of its first value in a test vector line.
    pub offset: usize,
    /// The index of its value `tb_i` in a test vector line, as C++.
    pub token: String,
    /// io_stream only.
    pub stream: Option<Pixels>,
}

/// The ports `top_ports` of `top` named `<var>0`, `<var>1`, ... in the testbench; with their
/// pixels when `design` (io_stream) is given.
pub(super) fn ports(
    top: &TopInterface,
    top_ports: &[TopPort],
    var: &str,
    design: Option<&stream::Design>,
) -> Vec<Port> {
    let mut out = Vec::new();
    let mut offset = 0;
    for (k, port) in top_ports.iter().enumerate() {
        let base = &top.base[&port.node];
        out.push(Port {
            name: port.name.clone(),
            var: format!("{var}{k}"),
            cpp_type: format!("{base}_t"),
            size: port.elements,
            offset,
            token: if offset == 0 { "tb_i".into() } else { format!("{offset} + tb_i") },
            stream: design.map(|d| {
                let t = d.tensors[&port.node];
                Pixels { pixel_type: format!("{base}_pixel_t"), transfers: t.transfers, width: t.width }
            }),
        });
        offset += port.elements;
    }
    out
}

#[derive(Serialize)]
struct TestContext<'a> {
    name: &'a str,
    stream: bool,
    inputs: &'a [Port],
    input_total: usize,
    outputs: &'a [Port],
    output_total: usize,
    call_args: String,
}

/// Adds `NAME_test.cpp` for the top `top` with ports `inputs` and `outputs`.
pub(super) fn add(
    project: &mut Project,
    renderer: &Renderer,
    top: &TopInterface,
    inputs: &[Port],
    outputs: &[Port],
) -> Result<(), BackendError> {
    let stream = inputs.iter().chain(outputs).any(|p| p.stream.is_some());
    let suffix = if stream { "_s" } else { "" };
    let call_args: Vec<String> = inputs.iter().chain(outputs).map(|p| format!("{}{suffix}", p.var)).collect();
    let test = TestContext {
        name: &top.name,
        stream,
        inputs,
        input_total: top.input_elements(),
        outputs,
        output_total: top.output_elements(),
        call_args: call_args.join(", "),
    };
    project.add(format!("{}_test.cpp", top.name), renderer.render("test.cpp", &test)?)?;
    Ok(())
}
