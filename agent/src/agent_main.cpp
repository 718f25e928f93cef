#include "agent_service.h"

int main(int argc, char** argv) { return lw::run_agent(argc, argv); }
