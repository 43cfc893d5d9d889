/*
 * Runs a Darknet model with libdarknet itself, so the reference executor can be compared with
 * the framework it claims to reproduce (LibDarknetCrossCheckTests) and timed against it
 * (bench/Executor).
 *
 * usage: darknet-harness CFG WEIGHTS INPUT.bin OUTPUT.bin [ITERATIONS [LAYERS]]
 *
 * INPUT.bin holds net->inputs little-endian float32 values (C x H x W of the [net] section).
 * OUTPUT.bin receives, for every detection layer ([yolo], [region], [detection]), the network's
 * output layer (the last layer that is not a [cost]) and the layers listed in LAYERS ("all", or
 * comma-separated indices), in layer order: an int32 count, then per layer
 *     int32 layer index, int32 value count, that many float32 values.
 * With ITERATIONS > 0 the forward pass is then repeated ITERATIONS times and each pass's
 * wall-clock time is printed to stdout as "forward_ms <value>", measured around
 * network_predict alone (file I/O and model loading excluded).
 *
 * Built by the tests at run time against the installed header and library, because the layer
 * struct layout must be the one of the libdarknet that runs.
 */
#include <darknet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int is_listed(const char *layers, int index)
{
    if (!layers) {
        return 0;
    }
    if (strcmp(layers, "all") == 0) {
        return 1;
    }
    for (const char *p = layers; *p; ) {
        char *end;
        long value = strtol(p, &end, 10);
        if (end == p) {
            break;
        }
        if (value == index) {
            return 1;
        }
        p = *end == ',' ? end + 1 : end;
    }
    return 0;
}

static int is_reported(const network *net, int index, int output_index, const char *layers)
{
    LAYER_TYPE type = net->layers[index].type;
    return index == output_index || type == YOLO || type == REGION || type == DETECTION || is_listed(layers, index);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s CFG WEIGHTS INPUT.bin OUTPUT.bin [ITERATIONS [LAYERS]]\n", argv[0]);
        return 2;
    }

    int iterations = argc > 5 ? atoi(argv[5]) : 0;
    const char *layers = argc > 6 ? argv[6] : NULL;
    network *net = load_network(argv[1], argv[2], 0);
    set_batch_network(net, 1);

    float *input = calloc(net->inputs, sizeof(float));
    FILE *in = fopen(argv[3], "rb");
    if (!in || fread(input, sizeof(float), net->inputs, in) != (size_t)net->inputs) {
        fprintf(stderr, "harness: %s does not hold the %d floats the network takes\n", argv[3], net->inputs);
        return 3;
    }
    fclose(in);

    /* darknet's own notion of the output: the last layer that is not a cost layer. */
    int output_index = net->n - 1;
    while (output_index > 0 && net->layers[output_index].type == COST) {
        --output_index;
    }

    network_predict(net, input);

    FILE *out = fopen(argv[4], "wb");
    if (!out) {
        fprintf(stderr, "harness: cannot write %s\n", argv[4]);
        return 4;
    }
    int reported = 0;
    for (int i = 0; i < net->n; ++i) {
        reported += is_reported(net, i, output_index, layers);
    }
    fwrite(&reported, sizeof(int), 1, out);
    for (int i = 0; i < net->n; ++i) {
        if (!is_reported(net, i, output_index, layers)) {
            continue;
        }
        const layer *l = &net->layers[i];
        int count = l->outputs; /* batch is 1 */
        fwrite(&i, sizeof(int), 1, out);
        fwrite(&count, sizeof(int), 1, out);
        fwrite(l->output, sizeof(float), count, out);
    }
    fclose(out);

    for (int k = 0; k < iterations; ++k) {
        double start = now_ms();
        network_predict(net, input);
        printf("forward_ms %.3f\n", now_ms() - start);
        fflush(stdout);
    }

    free(input);
    free_network(net);
    return 0;
}
