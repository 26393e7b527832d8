// The `nfvi` command-line program: dispatches to a subcommand. Bad input gives one line on
// stderr and exit status 2; so does any error that stops a run (I/O, divergence).
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>

#include "src/args.h"
#include "src/conditional.h"
#include "src/potential.h"
#include "src/reproduce.h"
#include "src/vae.h"

namespace {

const char* kUsage =
    "usage: nfvi <command> [flags]\n"
    "\n"
    "commands:\n"
    "  potential  fit a flow to a 2-D potential and draw it\n"
    "             --target U1|U2|U3|U4|U8 (U1)  --flow planar|radial|nice-perm|nice-orth (planar)\n"
    "             --layers K (32)  --steps N (20000)  --batch B (1000)  --lr LR (0.002)\n"
    "             --optimizer adam|rmsprop (adam)  --anneal N (10000; 0 = off)  --seed S (1)\n"
    "             --threads T (1)  --out DIR (runs/potential)  --taper  --no-pictures  --quiet\n"
    "             --kl-samples N (100000)  --grid N (2000)  --density-samples N (1000000)\n"
    "  reproduce  --figure 3 [--quick] [--jobs J (2)] [--steps N] --out DIR (runs/figure3)\n"
    "             U1-U4 x {planar, radial, nice-orth, nice-perm} x K in {2, 8, 32}: table and plots\n"
    "             --table 2 [--updates N (10000)] [--data DIR] [--importance-samples K (1000)]\n"
    "             [--points N (2000)] [--jobs J (2)] --out DIR (runs/table2): the NF-VAE table on MNIST\n"
    "  conditional  one network maps an angle to a flow for the rotated two-mode ring\n"
    "             --layers K (32)  --hidden 512,512  --input angle|cos-sin (cos-sin)  --angles-per-step B (32)\n"
    "             --schedule default|reference|STEPS:LR:SAMPLES,...  --steps N  --lr LR  --samples S\n"
    "             --anneal N  --clip C  --seed S (1)  --threads T (1)  --out DIR (runs/conditional)\n"
    "             --eval-angles N (26)  --kl-samples N  --density-samples N  --no-pictures  --quiet\n"
    "             frames/NN.png, conditional.gif, kl.svg/png, log.csv, summary.json (KL per angle)\n"
    "  vae train  train an NF-VAE on binarized MNIST (--data DIR, default data/mnist)\n"
    "             --preset reference|paper (reference)  --flow planar|radial|nice-perm|nice-orth (planar)\n"
    "             --layers K (16)  --latent D  --hidden 512,512  --activation elu|relu|tanh|maxout\n"
    "             --maxout-pieces P  --batch B  --epochs E (10)  --updates N  --samples S  --lr LR\n"
    "             --optimizer adam|rmsprop  --momentum M  --anneal N  --binarize threshold|dynamic\n"
    "             --output-bias data|zero (data: the decoder starts at the mean training image)\n"
    "             --validation N (1000)  --train-limit N  --seed S  --threads T  --checkpoint-every N (1000)\n"
    "             --resume  --on-nan stop|skip (stop)  --out DIR (runs/vae)  --no-pictures  --quiet\n"
    "  vae eval   --checkpoint FILE [--data DIR] [--importance-samples K (5000)] [--points N (10000)]\n"
    "             [--threads T] [--out DIR (eval/ beside the checkpoint)]: test ELBO and\n"
    "             importance-sampled -log p(x) -> summary.json\n"
    "  vae sample --checkpoint FILE [--count N (100)] [--columns C] [--seed S] --out FILE.png\n"
    "  help       show this text\n";

}  // namespace

int main(int argc, char** argv) {
    using nfvi::cli::UsageError;
    try {
        if (argc < 2) throw UsageError("no command given (try: nfvi help)");
        std::string_view cmd = argv[1];
        if (cmd == "help" || cmd == "--help" || cmd == "-h") {
            std::fputs(kUsage, stdout);
            return 0;
        }
        if (cmd == "potential") return nfvi::cli::potential_command(argc, argv);
        if (cmd == "reproduce") return nfvi::cli::reproduce_command(argc, argv);
        if (cmd == "vae") return nfvi::cli::vae_command(argc, argv);
        if (cmd == "conditional") return nfvi::cli::conditional_command(argc, argv);
        throw UsageError("unknown command '" + std::string(cmd) + "' (try: nfvi help)");
    } catch (const UsageError& e) {
        std::fprintf(stderr, "nfvi: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "nfvi: error: %s\n", e.what());
        return 2;
    }
}
