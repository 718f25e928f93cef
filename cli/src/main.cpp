#include "cli_app.h"

int main(int argc, char** argv) { return lw::cli::run_cli(argc, argv); }
