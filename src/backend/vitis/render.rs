//! The embedded Tera templates and the one function that renders them.
//!
//! Templates only print and loop over the typed contexts built by the emitter; an undefined
//! variable is an error.

use serde::Serialize;
use tera::{Context, Tera};

use crate::backend::BackendError;

/// (name, source) of every template, embedded in the binary.
const TEMPLATES: &[(&str, &str)] = &[
    ("top.h", include_str!("../../../templates/vitis/top.h.tera")),
    ("top.cpp", include_str!("../../../templates/vitis/top.cpp.tera")),
    ("top_stream.cpp", include_str!("../../../templates/vitis/top_stream.cpp.tera")),
    ("top_rows.cpp", include_str!("../../../templates/vitis/top_rows.cpp.tera")),
    ("defines.h", include_str!("../../../templates/vitis/defines.h.tera")),
    ("parameters.h", include_str!("../../../templates/vitis/parameters.h.tera")),
    ("test.cpp", include_str!("../../../templates/vitis/test.cpp.tera")),
    ("README.md", include_str!("../../../templates/vitis/README.md.tera")),
    ("build_prj.tcl", include_str!("../../../xilinx_flows/build_prj.tcl.tera")),
    ("build_opt.tcl", include_str!("../../../xilinx_flows/build_opt.tcl.tera")),
    ("vivado_synth.tcl", include_str!("../../../xilinx_flows/vivado_synth.tcl.tera")),
];

/// The HLS layer library, copied verbatim into `firmware/hlsgen/`.
pub const LIBRARY: &[(&str, &str)] = &[
    ("activation.h", include_str!("../../../templates/hlsgen/activation.h")),
    ("batch_norm.h", include_str!("../../../templates/hlsgen/batch_norm.h")),
    ("cast.h", include_str!("../../../templates/hlsgen/cast.h")),
    ("common.h", include_str!("../../../templates/hlsgen/common.h")),
    ("concatenate.h", include_str!("../../../templates/hlsgen/concatenate.h")),
    ("conv.h", include_str!("../../../templates/hlsgen/conv.h")),
    ("conv_stream.h", include_str!("../../../templates/hlsgen/conv_stream.h")),
    ("decimal_io.h", include_str!("../../../templates/hlsgen/decimal_io.h")),
    ("dense.h", include_str!("../../../templates/hlsgen/dense.h")),
    ("elementwise.h", include_str!("../../../templates/hlsgen/elementwise.h")),
    ("frame.h", include_str!("../../../templates/hlsgen/frame.h")),
    ("gather.h", include_str!("../../../templates/hlsgen/gather.h")),
    ("gather_rows.h", include_str!("../../../templates/hlsgen/gather_rows.h")),
    ("pad_stream.h", include_str!("../../../templates/hlsgen/pad_stream.h")),
    ("pool.h", include_str!("../../../templates/hlsgen/pool.h")),
    ("pool_stream.h", include_str!("../../../templates/hlsgen/pool_stream.h")),
    ("reduce.h", include_str!("../../../templates/hlsgen/reduce.h")),
    ("rows.h", include_str!("../../../templates/hlsgen/rows.h")),
    ("scatter_add.h", include_str!("../../../templates/hlsgen/scatter_add.h")),
    ("softmax.h", include_str!("../../../templates/hlsgen/softmax.h")),
    ("stream.h", include_str!("../../../templates/hlsgen/stream.h")),
];

fn message(e: &tera::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

pub struct Renderer {
    tera: Tera,
}

impl Renderer {
    pub fn new() -> Result<Self, BackendError> {
        let mut tera = Tera::default();
        tera.autoescape_on(vec![]);
        tera.add_raw_templates(TEMPLATES.iter().copied())
            .map_err(|e| BackendError::Template { template: "(all)".into(), message: message(&e) })?;
        Ok(Renderer { tera })
    }

    pub fn render(&self, template: &str, ctx: &impl Serialize) -> Result<String, BackendError> {
        let err =
            |e: tera::Error| BackendError::Template { template: template.to_string(), message: message(&e) };
        let context = Context::from_serialize(ctx).map_err(err)?;
        self.tera.render(template, &context).map_err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_variable_is_an_error() {
        #[derive(Serialize)]
        struct Partial {
            name: String,
        }
        let r = Renderer::new().unwrap();
        let err = r.render("top.h", &Partial { name: "x".into() }).unwrap_err();
        assert!(matches!(err, BackendError::Template { .. }), "{err}");
    }
}
