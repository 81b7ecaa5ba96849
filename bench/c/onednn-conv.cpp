/* oneDNN (Debian's libdnnl-dev) convolutions as the CPU peer, under the protocol of loopsmith's own
 * kernels: inputs from the same seeded generator, the output checked against the same reference,
 * timed by the same loop (ls-timing.h). One binary, two contracts:
 *   best  oneDNN at its best: the layouts it prefers (blocked, `any`), input and weights reordered
 *         once before timing, only the primitive timed; the output reordered to NC(D)HW for the check.
 *   nchw  NC(D)HW in and out, weights as PyTorch stores them: the reorders into and out of oneDNN's
 *         layouts are inside the timed run, the contract loopsmith's kernels work under.
 * Forward convolutions (grouped, depthwise, dilated, strided) and transposed ones (deconvolution),
 * 1-, 2- or 3-d, batch 1. Prints {"impl": <what oneDNN chose>, "warming": .., "times": [..]}.
 * usage: onednn-conv best|nchw c k groups transposed spatial-dims d h w kd kh kw stride pad dilation seed out min-seconds max-repeats warmup */
#define PEER_NO_OPENBLAS
#include "peer-harness.h" /* first: it sets _POSIX_C_SOURCE */
#include <oneapi/dnnl/dnnl.hpp>
#include <string>
#include <unordered_map>
#include <vector>

using namespace dnnl;
using tag = memory::format_tag;
using dims = memory::dims;

struct Peer {
  engine eng{engine::kind::cpu, 0};
  stream strm{eng};
  primitive prim;
  std::unordered_map<int, memory> args;
  /* nchw: reorders timed around the primitive; best: done once, outside the time */
  std::vector<std::pair<reorder, std::pair<memory, memory>>> before, after;
};

static void run(void *p) {
  Peer *v = static_cast<Peer *>(p);
  for (auto &r : v->before) r.first.execute(v->strm, r.second.first, r.second.second);
  v->prim.execute(v->strm, v->args);
  for (auto &r : v->after) r.first.execute(v->strm, r.second.first, r.second.second);
  v->strm.wait();
}

/* The plain format tag of an n-d tensor in the given dimension order ("abcd", "bacd", ...). */
static tag plain(const std::string &order) {
  static const std::unordered_map<std::string, tag> tags = {
    {"abc", tag::abc}, {"bac", tag::bac}, {"abcd", tag::abcd}, {"bacd", tag::bacd}, {"acbd", tag::acbd},
    {"abcde", tag::abcde}, {"bacde", tag::bacde}, {"acbde", tag::acbde}, {"abcdef", tag::abcdef}, {"acbdef", tag::acbdef},
  };
  return tags.at(order);
}

int main(int argc, char **argv) {
  if (argc != 21) {
    fprintf(stderr, "usage: %s best|nchw c k groups transposed spatial-dims d h w kd kh kw stride pad dilation seed out min-seconds max-repeats warmup\n", argv[0]);
    return 2;
  }
  const bool best = std::string(argv[1]) == "best";
  const int c = atoi(argv[2]), k = atoi(argv[3]), g = atoi(argv[4]), transposed = atoi(argv[5]), nsp = atoi(argv[6]);
  const int in[3] = {atoi(argv[7]), atoi(argv[8]), atoi(argv[9])}, ker[3] = {atoi(argv[10]), atoi(argv[11]), atoi(argv[12])};
  const int stride = atoi(argv[13]), pad = atoi(argv[14]), dil = atoi(argv[15]);
  const unsigned long long seed = strtoull(argv[16], 0, 10);
  dims src_d{1, c}, dst_d{1, k}, wei_d, strides, dilates, pads;
  size_t xs = c, ys = k, ws = (size_t)k * (c / g);
  for (int i = 3 - nsp; i < 3; i++) {
    const int o = transposed ? (in[i] - 1) * stride - 2 * pad + dil * (ker[i] - 1) + 1 : (in[i] + 2 * pad - dil * (ker[i] - 1) - 1) / stride + 1;
    src_d.push_back(in[i]);
    dst_d.push_back(o);
    strides.push_back(stride);
    dilates.push_back(dil - 1); /* oneDNN counts the taps skipped, not the step */
    pads.push_back(pad);
    xs *= in[i];
    ys *= o;
    ws *= ker[i];
  }
  /* Weights as PyTorch holds them: [k][c/g][taps] forward, [c][k/g][taps] transposed; oneDNN's
     logical order is (g,) out, in, taps, so the transposed layout is its "io" order. */
  const std::string sp = std::string("cdef").substr(0, nsp);
  std::string wtag;
  if (g == 1) {
    wei_d = {k, c};
    wtag = (transposed ? "ba" : "ab") + sp;
  } else {
    wei_d = {g, k / g, c / g};
    wtag = (transposed ? "acb" : "abc") + std::string("defg").substr(0, nsp);
  }
  for (int i = 3 - nsp; i < 3; i++) wei_d.push_back(ker[i]);
  const tag act = plain(std::string("abcde").substr(0, 2 + nsp));

  float *X = peer_alloc(xs), *W = peer_alloc(ws), *Y = peer_alloc(ys);
  /* buffer positions 0 (X) and 1 (W), as in the lowered convolution */
  peer_fill(X, xs, (uint32_t)(seed * 7919ull + 0));
  peer_fill(W, ws, (uint32_t)(seed * 7919ull + 1));

  try {
    Peer v;
    const memory::desc src_any(src_d, memory::data_type::f32, tag::any), dst_any(dst_d, memory::data_type::f32, tag::any), wei_any(wei_d, memory::data_type::f32, tag::any);
    memory::desc src_md, wei_md, dst_md;
    std::string impl;
    if (transposed) {
      auto pd = deconvolution_forward::primitive_desc(deconvolution_forward::desc(prop_kind::forward_inference, algorithm::deconvolution_direct, src_any, wei_any, dst_any, strides, dilates, pads, pads), v.eng);
      v.prim = deconvolution_forward(pd);
      src_md = pd.src_desc(); wei_md = pd.weights_desc(); dst_md = pd.dst_desc(); impl = pd.impl_info_str();
    } else {
      auto pd = convolution_forward::primitive_desc(convolution_forward::desc(prop_kind::forward_inference, algorithm::convolution_direct, src_any, wei_any, dst_any, strides, dilates, pads, pads), v.eng);
      v.prim = convolution_forward(pd);
      src_md = pd.src_desc(); wei_md = pd.weights_desc(); dst_md = pd.dst_desc(); impl = pd.impl_info_str();
    }
    memory user_src({src_d, memory::data_type::f32, act}, v.eng, X), user_wei({wei_d, memory::data_type::f32, plain(wtag)}, v.eng, W), user_dst({dst_d, memory::data_type::f32, act}, v.eng, Y);
    memory src = src_md == user_src.get_desc() ? user_src : memory(src_md, v.eng);
    memory wei = wei_md == user_wei.get_desc() ? user_wei : memory(wei_md, v.eng);
    memory dst = dst_md == user_dst.get_desc() ? user_dst : memory(dst_md, v.eng);
    std::vector<std::pair<reorder, std::pair<memory, memory>>> in_reorders, out_reorders;
    if (src != user_src) in_reorders.push_back({reorder(user_src, src), {user_src, src}});
    if (wei != user_wei) in_reorders.push_back({reorder(user_wei, wei), {user_wei, wei}});
    if (dst != user_dst) out_reorders.push_back({reorder(dst, user_dst), {dst, user_dst}});
    v.args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}};
    if (best) {
      /* Inputs reordered once, before the time: a framework keeps activations and weights in these layouts. */
      for (auto &r : in_reorders) r.first.execute(v.strm, r.second.first, r.second.second);
      v.strm.wait();
    } else {
      v.before = in_reorders;
      v.after = out_reorders;
    }
    run(&v);
    if (best) {
      for (auto &r : out_reorders) r.first.execute(v.strm, r.second.first, r.second.second);
      v.strm.wait();
    }
    if (peer_write(argv[17], Y, ys)) return 3;
    printf("{\"impl\":\"%s%s\"", impl.c_str(), best ? "" : " (reorders timed)");
    const int status = ls_time(run, &v, atof(argv[18]), atol(argv[19]), atol(argv[20]));
    printf("}\n");
    return status;
  } catch (const dnnl::error &e) {
    fprintf(stderr, "oneDNN: %s (status %d)\n", e.what(), (int)e.status);
    return 5;
  }
}
