#include "src/vae_state.h"

#include <bit>
#include <cstring>
#include <stdexcept>

#include "flows/stack.h"
#include "models/mlp.h"
#include "src/io/error.h"

namespace nfvi::cli {

io::Json vae_shape_json(const VaeShape& s) {
    io::Json j = io::Json::object();
    j["data_dim"] = s.data_dim;
    j["latent"] = s.latent;
    io::Json h = io::Json::array();
    for (int v : s.hidden) h.push_back(v);
    j["hidden"] = h;
    j["activation"] = std::string(to_string(s.activation));
    j["pieces"] = s.pieces;
    j["flow"] = s.flow;
    j["layers"] = s.layers;
    return j;
}

VaeShape vae_shape_from_json(const io::Json& m, const std::string& source) {
    try {
        VaeShape s;
        auto whole = [&](const char* key, int lo) {
            const double v = m.at(key).as_number();
            if (!(v >= lo && v <= 1e7) || v != static_cast<double>(static_cast<int>(v)))
                throw std::runtime_error(std::string("bad value of ") + key);
            return static_cast<int>(v);
        };
        s.data_dim = whole("data_dim", 1);
        s.latent = whole("latent", 1);
        if (s.latent > 4096) throw std::runtime_error("latent dimension above 4096");
        s.hidden.clear();
        for (const io::Json& v : m.at("hidden").as_array()) {
            const double h = v.as_number();
            if (!(h >= 1 && h <= 1e6) || h != static_cast<double>(static_cast<int>(h))) throw std::runtime_error("bad hidden size");
            s.hidden.push_back(static_cast<int>(h));
        }
        if (!parse_activation(m.at("activation").as_string(), s.activation))
            throw std::runtime_error("unknown activation");
        s.pieces = whole("pieces", 1);
        s.flow = m.at("flow").as_string();
        if (!is_flow_kind(s.flow)) throw std::runtime_error("unknown flow '" + s.flow + "'");
        s.layers = whole("layers", 0);
        return s;
    } catch (const std::exception& e) {
        throw io::FormatError("checkpoint '" + source + "': its model settings are not readable (" + e.what() +
                              "); it was not written by this version of nfvi vae train");
    }
}

void write_vae_checkpoint(const std::string& path, const std::string& settings_json, Vae& m,
                          const Optimizer& opt, const TrainingState& s) {
    io::CheckpointWriter w;
    w.add_text("settings", settings_json);
    w.add_i64("step", s.step);
    w.add_u64("rng.seed", s.rng.seed);
    w.add_u64("rng.stream", s.rng.stream);
    w.add_u64("rng.counter", s.rng.counter);
    w.add_u64("epoch.sum", std::bit_cast<std::uint64_t>(s.epoch_sum));
    w.add_i64("epoch.count", s.epoch_count);
    w.add_text("log", s.log);
    const std::vector<std::byte> state = opt.save_state();
    w.add("optimizer", std::span<const std::byte>(state));
    for (Parameter* p : m.params()) w.add_tensor("param/" + p->name, p->value);
    w.write(path);
}

io::Json checkpoint_settings(const io::Checkpoint& c) {
    io::Json j;
    try {
        j = io::Json::parse(c.text("settings"));
    } catch (const io::FormatError&) {
        throw;
    } catch (const std::exception& e) {
        throw io::FormatError("checkpoint '" + c.source() + "': its settings are not valid JSON (" + e.what() + ")");
    }
    const io::Json* f = j.find("format");
    if (!f || !f->is_string() || f->as_string() != "nfvi-vae-1")
        throw io::FormatError("checkpoint '" + c.source() + "' is not an NF-VAE checkpoint of this nfvi version "
                              "(its settings lack \"format\": \"nfvi-vae-1\")");
    if (!j.find("model")) throw io::FormatError("checkpoint '" + c.source() + "': its settings lack \"model\"");
    return j;
}

namespace {

void load_params(const io::Checkpoint& c, Vae& m) {
    for (Parameter* p : m.params()) {
        const std::string name = "param/" + p->name;
        if (!c.has(name))
            throw io::FormatError("checkpoint '" + c.source() + "' has no tensor '" + p->name +
                                  "': it comes from a model of another architecture");
        c.read_tensor(name, p->value);
    }
}

}  // namespace

// The number of parameter values a model of shape s has, computed without building it.
double parameter_count(const VaeShape& s) {
    const int pieces = s.activation == Activation::Maxout ? s.pieces : 1;
    auto mlp = [&](double in, const std::vector<int>& hidden, double out) {
        double n = 0;
        for (int h : hidden) {
            n += (in + 1) * h * pieces;
            in = h;
        }
        return n + (in + 1) * out;
    };
    const double flow = s.layers > 0 ? static_cast<double>(make_flow(s.flow, s.latent, 1).num_params()) * s.layers : 0;
    const bool amortized = flow_is_amortized(s.flow);
    const std::vector<int> mirrored(s.hidden.rbegin(), s.hidden.rend());
    return mlp(s.data_dim, s.hidden, 2.0 * s.latent + (amortized ? flow : 0)) + mlp(s.latent, mirrored, s.data_dim) +
           (amortized ? 0 : flow);
}

std::unique_ptr<Vae> load_vae_model(const io::Checkpoint& c) {
    io::Json settings = checkpoint_settings(c);
    const VaeShape shape = vae_shape_from_json(settings.at("model"), c.source());
    // The settings must describe the tensors the file holds before anything of that size is
    // allocated: a damaged or crafted settings string cannot ask for terabytes.
    double stored = 0;
    for (const std::string& name : c.names())
        if (name.rfind("param/", 0) == 0) stored += static_cast<double>(c.tensor_shape(name).numel());
    if (parameter_count(shape) != stored)
        throw io::FormatError("checkpoint '" + c.source() + "': its settings describe a model of " +
                              std::to_string(static_cast<long long>(parameter_count(shape))) + " parameter values, but it holds " +
                              std::to_string(static_cast<long long>(stored)) + "; the file is damaged or was not written by nfvi vae train");
    auto m = std::make_unique<Vae>(shape, 1);
    load_params(c, *m);
    return m;
}

TrainingState load_training_state(const io::Checkpoint& c, Vae& m, Optimizer& opt) {
    TrainingState s;
    s.step = c.i64("step");
    s.rng = {c.u64("rng.seed"), c.u64("rng.stream"), c.u64("rng.counter")};
    s.epoch_sum = std::bit_cast<double>(c.u64("epoch.sum"));
    s.epoch_count = c.i64("epoch.count");
    s.log = c.text("log");
    if (s.step < 0 || s.epoch_count < 0)
        throw io::FormatError("checkpoint '" + c.source() + "': negative step count");
    load_params(c, m);
    std::span<const std::uint8_t> b = c.bytes("optimizer");
    try {
        opt.load_state(std::as_bytes(b));
    } catch (const std::exception& e) {
        throw io::FormatError("checkpoint '" + c.source() + "': its optimizer state does not fit this run (" +
                              e.what() + ")");
    }
    return s;
}

}  // namespace nfvi::cli
