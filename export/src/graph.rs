//! A small builder for ONNX graphs over the private protobuf messages.

use prost::Message;

use crate::proto::{
    AttributeProto, AttributeType, Dimension, DimensionValue, GraphProto, ModelProto, NodeProto,
    OperatorSetIdProto, StringStringEntryProto, TensorProto, TensorShapeProto, TypeProto,
    TypeTensor, ValueInfoProto, data_type,
};

/// The ONNX default-domain opset vigil's graphs use.
pub(crate) const OPSET: i64 = 17;
/// The `ai.onnx.ml` opset (TreeEnsembleRegressor v3).
pub(crate) const ML_OPSET: i64 = 3;
/// ONNX IR version matching opset 17.
const IR_VERSION: i64 = 8;

/// One attribute value.
#[derive(Clone)]
pub(crate) enum Attr {
    Int(i64),
    Str(&'static str),
    Ints(Vec<i64>),
    Floats(Vec<f32>),
    Strings(Vec<&'static str>),
}

/// A graph under construction: nodes in topological order and constant initializers.
pub(crate) struct Graph {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    inputs: Vec<ValueInfoProto>,
    outputs: Vec<ValueInfoProto>,
    /// Outputs listed after `score` and `is_anomaly` (a stateful graph's `state_out`).
    trailing_outputs: Vec<ValueInfoProto>,
    counter: usize,
    /// See [`Graph::never_flag`].
    never: Option<String>,
}

/// A symbolic or fixed dimension of a graph input or output.
pub(crate) enum Dim {
    Named(&'static str),
    Fixed(usize),
}

fn value_info(name: &str, elem_type: i32, dims: &[Dim], doc: &str) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| Dimension {
            value: Some(match d {
                Dim::Named(n) => DimensionValue::DimParam((*n).to_string()),
                Dim::Fixed(v) => DimensionValue::DimValue(*v as i64),
            }),
        })
        .collect();
    ValueInfoProto {
        name: name.to_string(),
        r#type: Some(TypeProto {
            tensor_type: Some(TypeTensor {
                elem_type,
                shape: Some(TensorShapeProto { dim }),
            }),
        }),
        doc_string: doc.to_string(),
    }
}

impl Graph {
    pub(crate) fn new() -> Graph {
        Graph {
            nodes: Vec::new(),
            initializers: Vec::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            trailing_outputs: Vec::new(),
            counter: 0,
            never: None,
        }
    }

    fn fresh(&mut self, hint: &str) -> String {
        self.counter += 1;
        format!("{hint}_{}", self.counter)
    }

    /// Declares a float32 graph input.
    pub(crate) fn input_f32(&mut self, name: &str, dims: &[Dim], doc: &str) {
        self.inputs
            .push(value_info(name, data_type::FLOAT, dims, doc));
    }

    /// Declares a float64 graph input.
    pub(crate) fn input_f64(&mut self, name: &str, dims: &[Dim], doc: &str) {
        self.inputs
            .push(value_info(name, data_type::DOUBLE, dims, doc));
    }

    /// Declares a graph output listed after the ones declared with [`Graph::output`].
    pub(crate) fn trailing_output(&mut self, name: &str, elem_type: i32, dims: &[Dim], doc: &str) {
        self.trailing_outputs
            .push(value_info(name, elem_type, dims, doc));
    }

    /// Declares a graph output of `elem_type` (one of [`data_type`]).
    pub(crate) fn output(&mut self, name: &str, elem_type: i32, dims: &[Dim], doc: &str) {
        self.outputs.push(value_info(name, elem_type, dims, doc));
    }

    fn constant(&mut self, hint: &str, data_type: i32, dims: &[usize], raw: Vec<u8>) -> String {
        let name = self.fresh(hint);
        self.initializers.push(TensorProto {
            dims: dims.iter().map(|d| *d as i64).collect(),
            data_type,
            name: name.clone(),
            raw_data: raw,
        });
        name
    }

    /// A float64 constant.
    ///
    /// ONNX Runtime's graph optimizer (1.31, `NoopElimination`) drops `x·c` and `x + c` when
    /// a single-element constant `c` lies within float32 epsilon of 1 or 0, although the graph
    /// computes in float64: `(1 − α)·level` with α = 1.6e-8 became `level`. A single value
    /// that close to 0 or 1 (but not exactly 0 or 1, where the rewrite is exact) is therefore
    /// routed through `Where(false, c, c)` on a condition computed from the input's shape, which
    /// no optimizer can fold; the value is passed through unchanged.
    pub(crate) fn const_f64(&mut self, hint: &str, dims: &[usize], values: &[f64]) -> String {
        let raw = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let name = self.constant(hint, data_type::DOUBLE, dims, raw);
        let near = |v: f64| v != 0.0 && v != 1.0 && (v.abs() < 1e-6 || (v - 1.0).abs() < 1e-6);
        if values.len() == 1 && near(values[0]) {
            let never = self.never_flag();
            self.op("Where", &[&never, &name, &name], vec![])
        } else {
            name
        }
    }

    /// A scalar bool `false` that depends on the input `x` (`min(shape(x)) < 0`), created once.
    fn never_flag(&mut self) -> String {
        if let Some(flag) = &self.never {
            return flag.clone();
        }
        let shape = self.op("Shape", &["x"], vec![]);
        let min = self.op("ReduceMin", &[&shape], vec![("keepdims", Attr::Int(0))]);
        let zero = self.const_i64("zero_i64", &[], &[0]);
        let flag = self.op("Less", &[&min, &zero], vec![]);
        self.never = Some(flag.clone());
        flag
    }

    /// A float32 constant.
    pub(crate) fn const_f32(&mut self, hint: &str, dims: &[usize], values: &[f32]) -> String {
        let raw = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.constant(hint, data_type::FLOAT, dims, raw)
    }

    /// An int64 constant.
    pub(crate) fn const_i64(&mut self, hint: &str, dims: &[usize], values: &[i64]) -> String {
        let raw = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        self.constant(hint, data_type::INT64, dims, raw)
    }

    /// Adds a node with one output (named `output`, or a fresh name) and returns that name.
    pub(crate) fn node_in(
        &mut self,
        domain: &str,
        op: &str,
        inputs: &[&str],
        attrs: Vec<(&'static str, Attr)>,
        output: Option<&str>,
    ) -> String {
        let out = output.map_or_else(|| self.fresh(&op.to_lowercase()), str::to_string);
        self.push(domain, op, inputs, attrs, vec![out.clone()]);
        out
    }

    /// A default-domain node with `n` outputs (fresh names, returned in order).
    pub(crate) fn op_n(
        &mut self,
        op: &str,
        inputs: &[&str],
        attrs: Vec<(&'static str, Attr)>,
        n: usize,
    ) -> Vec<String> {
        let outs: Vec<String> = (0..n).map(|_| self.fresh(&op.to_lowercase())).collect();
        self.push("", op, inputs, attrs, outs.clone());
        outs
    }

    fn push(
        &mut self,
        domain: &str,
        op: &str,
        inputs: &[&str],
        attrs: Vec<(&'static str, Attr)>,
        outputs: Vec<String>,
    ) {
        let attribute = attrs
            .into_iter()
            .map(|(name, value)| {
                let mut a = AttributeProto {
                    name: name.to_string(),
                    ..AttributeProto::default()
                };
                let ty = match value {
                    Attr::Int(i) => {
                        a.i = i;
                        AttributeType::Int
                    }
                    Attr::Str(s) => {
                        a.s = s.as_bytes().to_vec();
                        AttributeType::String
                    }
                    Attr::Ints(v) => {
                        a.ints = v;
                        AttributeType::Ints
                    }
                    Attr::Floats(v) => {
                        a.floats = v;
                        AttributeType::Floats
                    }
                    Attr::Strings(v) => {
                        a.strings = v.into_iter().map(|s| s.as_bytes().to_vec()).collect();
                        AttributeType::Strings
                    }
                };
                a.r#type = ty as i32;
                a
            })
            .collect();
        let name = self.fresh("node");
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| (*s).to_string()).collect(),
            output: outputs,
            name,
            op_type: op.to_string(),
            attribute,
            domain: domain.to_string(),
        });
    }

    /// A default-domain node with a fresh output name.
    pub(crate) fn op(
        &mut self,
        op: &str,
        inputs: &[&str],
        attrs: Vec<(&'static str, Attr)>,
    ) -> String {
        self.node_in("", op, inputs, attrs, None)
    }

    /// A default-domain node writing the named graph output.
    pub(crate) fn op_to(
        &mut self,
        op: &str,
        inputs: &[&str],
        attrs: Vec<(&'static str, Attr)>,
        output: &str,
    ) -> String {
        self.node_in("", op, inputs, attrs, Some(output))
    }

    /// Serialises the model with `metadata` as `metadata_props`.
    pub(crate) fn finish(
        mut self,
        name: &str,
        doc: &str,
        uses_ml: bool,
        metadata: &[(String, String)],
    ) -> Vec<u8> {
        let mut opset_import = vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }];
        if uses_ml {
            opset_import.push(OperatorSetIdProto {
                domain: "ai.onnx.ml".to_string(),
                version: ML_OPSET,
            });
        }
        self.outputs.append(&mut self.trailing_outputs);
        ModelProto {
            ir_version: IR_VERSION,
            opset_import,
            producer_name: "vigil".to_string(),
            producer_version: env!("CARGO_PKG_VERSION").to_string(),
            domain: "dev.vigil".to_string(),
            model_version: 1,
            doc_string: doc.to_string(),
            graph: Some(GraphProto {
                node: self.nodes,
                name: name.to_string(),
                initializer: self.initializers,
                doc_string: doc.to_string(),
                input: self.inputs,
                output: self.outputs,
            }),
            metadata_props: metadata
                .iter()
                .map(|(k, v)| StringStringEntryProto {
                    key: k.clone(),
                    value: v.clone(),
                })
                .collect(),
        }
        .encode_to_vec()
    }

    /// Adds every node and initializer of `model`'s graph, each name prefixed with `prefix`
    /// except the empty name (an omitted optional input) and the graph inputs in `bind`, which
    /// read the given tensors of this graph instead. Returns the float64 tensor the member's
    /// `score` output was cast from (prefixed), or `None` when `score` is not such a cast.
    pub(crate) fn absorb(
        &mut self,
        model: &ModelProto,
        prefix: &str,
        bind: &[(&str, &str)],
    ) -> Option<String> {
        let graph = model.graph.as_ref()?;
        let rename = |name: &str| -> String {
            if name.is_empty() {
                return String::new();
            }
            match bind.iter().find(|(from, _)| *from == name) {
                Some((_, to)) => (*to).to_string(),
                None => format!("{prefix}{name}"),
            }
        };
        let score_source = graph
            .node
            .iter()
            .find(|n| n.op_type == "Cast" && n.output.iter().any(|o| o == "score"))
            .and_then(|n| n.input.first())
            .map(|s| rename(s))?;
        for t in &graph.initializer {
            let mut t = t.clone();
            t.name = rename(&t.name);
            self.initializers.push(t);
        }
        for n in &graph.node {
            let mut n = n.clone();
            n.input = n.input.iter().map(|s| rename(s)).collect();
            n.output = n.output.iter().map(|s| rename(s)).collect();
            n.name = format!("{prefix}{}", n.name);
            self.nodes.push(n);
        }
        Some(score_source)
    }

    /// Node count so far.
    pub(crate) fn n_nodes(&self) -> usize {
        self.nodes.len()
    }
}
