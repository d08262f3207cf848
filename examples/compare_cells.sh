#!/bin/sh
# compare_cells.sh: the seeds' exercise 4, SimpleRNN vs GRU vs LSTM, as
# one command: the same forecaster with each cell, trained on the same
# series (default: the sunspot numbers from python3-statsmodels) with the
# same seed and budget; prints validation MAE, time per epoch, parameters.
#   examples/compare_cells.sh [--epochs N] [--csv FILE --column NAME] ...
cd "$(dirname "$0")/.." || exit 1
exec python3 examples/compare.py examples/forecast/rnn_forecast.seq examples/forecast/gru_forecast.seq \
    examples/forecast/lstm_forecast.seq "$@"
