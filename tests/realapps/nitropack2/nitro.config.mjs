import { defineNitroConfig } from "nitropack/config";

// routes/ is a copy of ../nitro-routes/routes made by build.py; the environment picks the build variant.
export default defineNitroConfig({
  srcDir: "./",
  preset: "aws-lambda",
  compatibilityDate: "2025-07-01",
  awsLambda: { streaming: process.env.NITRO_STREAMING !== "0" },
  ...(process.env.REALAPP_ENTRY ? { entry: process.env.REALAPP_ENTRY } : {}),
});
