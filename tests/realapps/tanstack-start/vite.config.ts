import { defineConfig } from "vite";
import { tanstackStart } from "@tanstack/react-start/plugin/vite";
import viteReact from "@vitejs/plugin-react";
import { nitro } from "nitro/vite";

// The environment picks the build variant (streaming or buffered, built-in or ejected entry).
export default defineConfig({
  plugins: [
    tanstackStart(),
    nitro({
      preset: "aws-lambda",
      awsLambda: { streaming: process.env.NITRO_STREAMING !== "0" },
      ...(process.env.REALAPP_ENTRY ? { entry: process.env.REALAPP_ENTRY } : {}),
    }),
    viteReact(),
  ],
});
