#!/bin/sh
# compare_rnn_cnn.sh: the seeds' exercise 2, RNN vs CNN on the same
# forecasting task, as one command: the LSTM forecaster and a causal
# dilated Conv1D forecaster, same series, seed and budget.
#   examples/compare_rnn_cnn.sh [--epochs N] [--csv FILE --column NAME] ...
cd "$(dirname "$0")/.." || exit 1
exec python3 examples/compare.py examples/forecast/lstm_forecast.seq examples/forecast/cnn_forecast.seq "$@"
