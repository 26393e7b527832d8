// `nfvi reproduce --figure 3`: the paper's comparison of flows on the 2-D potentials.
#pragma once

namespace nfvi::cli {

int reproduce_command(int argc, char** argv);

}  // namespace nfvi::cli
